/**
 * Opens one of the client's stdio endpoints without blocking the event loop. The platform decides how
 * (src/transport, chosen once in entry.ts and passed down): Linux opens containerd's FIFOs (O_RDWR for writers,
 * so they survive the reader); Windows dials containerd's named pipes as their client, and stdout/stderr redial
 * a reader that went away.
 */
import type { Readable, Writable } from 'node:stream';
import type { PlatformTransport, StdioWriterOptions } from '../../transport/index.js';

/** Opens a stdin endpoint for reading. */
export function openPipeReader(transport: PlatformTransport, path: string): Promise<Readable> {
  return transport.openStdioReader(path);
}

/** CloseIO on a stdin endpoint: what was written is still read, then EOF once the client's writers are closed. */
export function releasePipeReader(transport: PlatformTransport, path: string): Promise<void> {
  return transport.releaseStdioReader(path);
}

/** Opens a stdout/stderr endpoint for writing. */
export function openPipeWriter(transport: PlatformTransport, path: string, opts?: StdioWriterOptions): Promise<Writable> {
  return transport.openStdioWriter(path, opts);
}
