/**
 * The kernel's CSPRNG without node:crypto. Loading node:crypto costs a Node process ~20 internal modules and
 * OpenSSL's initialisation (0.64 MB of RSS in a daemon that already loads net, child_process and
 * fs/promises), and the shim needs only random ids and the VM's entropy from it. On Linux the bytes are
 * read from /dev/urandom (the same pool getrandom(2) draws from; never blocks once the kernel's pool is
 * initialised at boot); on Windows, which has no such device, node:crypto is used (loaded on the first call).
 * The platform is chosen once, when this module loads.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { loadBuiltin } from '../async/index.js';
import { ErrorCode, ShimError } from '../errdefs/index.js';

export const URANDOM = '/dev/urandom';
/** st_rdev of /dev/random and /dev/urandom (major 1, minors 8 and 9) as Node reports it on Linux. */
const RDEV_RANDOM = (1 << 8) | 8;
const RDEV_URANDOM = (1 << 8) | 9;

/** One read(2) into `into[offset, offset + length)`: the count read, 0 at end of file (what fs.readSync does). */
export type ReadChunk = (into: Uint8Array, offset: number, length: number) => number;

/**
 * Fills `bytes` whole by reading from `read` until every byte is in: a short read (a signal, a device that
 * hands out less per call) is retried for the rest; a read of 0 bytes (end of file: whatever `what` is, it is
 * not the kernel's random device) throws, as does anything `read` throws, naming `what`.
 */
export function fillByReads(bytes: Uint8Array, read: ReadChunk, what: string): void {
  let off = 0;
  while (off < bytes.length) {
    const n = read(bytes, off, bytes.length - off);
    if (!Number.isInteger(n) || n <= 0 || n > bytes.length - off) {
      throw new ShimError(ErrorCode.Internal, `reading ${bytes.length} random bytes from ${what}: a read returned ${n} after ${off} bytes`);
    }
    off += n;
  }
}

/** Fills `bytes` from the character device at `path` (default /dev/urandom); a ShimError names the path on failure. */
export function fillFromDevice(bytes: Uint8Array, path: string = URANDOM): void {
  if (bytes.length === 0) return;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw ShimError.from(err, ErrorCode.Internal, `opening ${path} for random bytes`);
  }
  try {
    // A regular file, a pipe or /dev/zero there would hand out predictable bytes: only the kernel's random
    // devices will do, character devices 1:8 (/dev/random) and 1:9 (/dev/urandom) (Linux's devices.txt).
    const st = fstatSync(fd);
    if (!st.isCharacterDevice() || (st.rdev !== RDEV_RANDOM && st.rdev !== RDEV_URANDOM)) {
      const what = st.isCharacterDevice() ? `character device ${(st.rdev >> 8) & 0xfff}:${(st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00)}` : 'not a character device';
      throw new ShimError(ErrorCode.Internal, `${path} is ${what}, not the kernel's random device (1:8 or 1:9): refusing it as a source of random bytes`);
    }
    fillByReads(bytes, (into, offset, length) => readSync(fd, into, offset, length, null), path);
  } finally {
    closeSync(fd);
  }
}

/**
 * node:crypto, loaded on the first call and not before (loadBuiltin): the one place the shim loads it (the Windows
 * random path below; socket names use src/transport's own sha256, so no Linux process of the shim loads it).
 */
export function nodeCrypto(): typeof import('node:crypto') {
  return loadBuiltin<typeof import('node:crypto')>('node:crypto');
}

/** Fills `bytes` through node:crypto (nodeCrypto: loaded on the first call). */
export function fillFromNodeCrypto(bytes: Uint8Array): void {
  nodeCrypto().randomFillSync(bytes);
}

const fill: (bytes: Uint8Array) => void = process.platform === 'win32' ? fillFromNodeCrypto : (bytes) => fillFromDevice(bytes);

/** Fills `bytes` with random bytes from the OS; returns it. */
export function randomFill<T extends Uint8Array>(bytes: T): T {
  fill(bytes);
  return bytes;
}

/** `size` random bytes from the OS, in a Buffer of its own. */
export function randomBytes(size: number): Buffer {
  if (!Number.isSafeInteger(size) || size < 0) throw new ShimError(ErrorCode.InvalidArgument, `random byte count ${size} is not a non-negative integer`);
  return randomFill(Buffer.alloc(size));
}

/**
 * RFC 4122 (RFC 9562) version 4 UUID from 16 random bytes, lower case: the version nibble (byte 6's high
 * four bits) is 4 and the variant (byte 8's high two bits) is 10; the other 122 bits are random.
 */
export function uuidV4FromBytes(bytes: Uint8Array): string {
  if (bytes.length !== 16) throw new ShimError(ErrorCode.InvalidArgument, `a UUID takes 16 bytes, not ${bytes.length}`);
  const b = Buffer.from(bytes);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = b.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A new random (v4) UUID, lower case, as node:crypto's randomUUID. */
export function randomUUID(): string {
  return uuidV4FromBytes(randomFill(new Uint8Array(16)));
}
