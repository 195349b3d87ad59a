/** Unix socket address checks: the optional `unix://` scheme and the sun_path length limit. */
import { invalidArgument } from '../errdefs/index.js';

/** sockaddr_un.sun_path is 108 bytes on Linux, including the terminating NUL. */
export const SUN_PATH_BYTES = 108;
export const MAX_UNIX_PATH_BYTES = SUN_PATH_BYTES - 1;

/** Strips `unix://`, rejects empty and over-long paths with an error naming the limit. */
export function unixSocketPath(address: string): string {
  const path = address.startsWith('unix://') ? address.slice('unix://'.length) : address;
  if (path === '') throw invalidArgument(`empty unix socket address ${JSON.stringify(address)}`);
  if (path.includes('\0')) throw invalidArgument(`unix socket path contains a NUL byte: ${JSON.stringify(path)}`);
  const bytes = Buffer.byteLength(path, 'utf8');
  if (bytes > MAX_UNIX_PATH_BYTES) {
    throw invalidArgument(
      `unix socket path is ${bytes} bytes, the limit is ${MAX_UNIX_PATH_BYTES} ` +
        `(sun_path holds ${SUN_PATH_BYTES} bytes with the NUL): ${path}`,
    );
  }
  return path;
}
