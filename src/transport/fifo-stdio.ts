/**
 * Linux stdio endpoints: opens one of containerd's FIFOs without ever blocking the event loop (the Windows
 * counterpart dials named pipes, see windows-transport.ts).
 *
 * - Read end (stdin): O_RDONLY|O_NONBLOCK returns at once even with no writer yet. Wrapped in a net.Socket
 *   (libuv pipe handle: epoll-driven, so a reader that opened before any writer waits for one instead of
 *   seeing EOF).
 * - Write end (stdout/stderr): O_RDWR|O_NONBLOCK, as the runc shim does ("open both ends"): the open never
 *   waits for a reader and the FIFO survives the client going away. Writes are non-blocking with backpressure.
 * - A character device (e.g. /dev/null) is accepted and streamed with fs streams. Anything else is refused.
 */
import { close as closeFd, constants, fstat, open } from 'node:fs';
import type { Stats } from 'node:fs';
import { createReadStream, createWriteStream } from 'node:fs';
import { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { promisify } from 'node:util';
import { ErrorCode, ShimError, errnoOf, invalidArgument } from '../errdefs/index.js';

const openAsync = promisify(open);
const fstatAsync = promisify(fstat);

type Direction = 'read' | 'write';

async function openFd(path: string, direction: Direction): Promise<{ fd: number; stats: Stats }> {
  const flags = (direction === 'read' ? constants.O_RDONLY : constants.O_RDWR) | constants.O_NONBLOCK;
  let fd: number;
  try {
    fd = await openAsync(path, flags);
  } catch (err) {
    throw ShimError.from(err, ErrorCode.Unknown, `open stdio ${path}`);
  }
  try {
    const stats = await fstatAsync(fd);
    if (!stats.isFIFO() && !stats.isCharacterDevice()) throw invalidArgument(`stdio ${path} is not a FIFO`);
    return { fd, stats };
  } catch (err) {
    closeFd(fd, () => undefined);
    throw ShimError.from(err, ErrorCode.Unknown);
  }
}

/** Opens a stdin endpoint for reading. */
export async function openFifoReader(path: string): Promise<Readable> {
  const { fd, stats } = await openFd(path, 'read');
  if (stats.isFIFO()) return new Socket({ fd, readable: true, writable: false });
  return createReadStream('', { fd, autoClose: true });
}

/**
 * CloseIO on a stdin FIFO (what runc's shim gets by closing the write end it holds): opens a write end and
 * closes it at once. The reader then reaches EOF after every byte already in the FIFO, as soon as no other
 * writer is open; a client that still writes keeps it open until it closes. Without this, a FIFO that no
 * writer ever opened would never reach EOF. Not a FIFO (e.g. /dev/null), gone, or no reader: nothing to do.
 */
export async function releaseFifoReader(path: string): Promise<void> {
  let fd: number;
  try {
    fd = await openAsync(path, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch (err) {
    // Gone (ENOENT) or no reader (ENXIO): nobody waits for an EOF. Anything else is the caller's to log.
    if (errnoOf(err) === 'ENOENT' || errnoOf(err) === 'ENXIO') return;
    throw err;
  }
  await promisify(closeFd)(fd);
}

/** Opens a stdout/stderr endpoint for writing. */
export async function openFifoWriter(path: string): Promise<Writable> {
  const { fd, stats } = await openFd(path, 'write');
  if (stats.isFIFO()) return new Socket({ fd, readable: false, writable: true });
  return createWriteStream('', { fd, autoClose: true });
}
