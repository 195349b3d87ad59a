/**
 * `<bundle>/panic.log`: on Windows `start` points the `serve` child's stderr there (reexec-start.ts), so it holds
 * whatever the daemon wrote outside its log (a crash, an uncaught error). `delete` echoes the first
 * PANIC_LOG_ECHO_BYTES of it to its own stderr as a warning, as runhcs does ("found shim panic logs"), since
 * containerd shows `delete`'s stderr in its log.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';

export const PANIC_LOG_ECHO_BYTES = 1 << 20;

/** The first `max` bytes of the bundle's panic.log as text; undefined when it is missing or empty. */
export function readPanicLog(bundle: string, max = PANIC_LOG_ECHO_BYTES): string | undefined {
  let fd: number;
  try {
    fd = openSync(join(bundle, 'panic.log'), 'r');
  } catch {
    return undefined;
  }
  try {
    const buf = Buffer.alloc(max);
    let n = 0;
    for (let got = -1; got !== 0 && n < max; n += got) got = readSync(fd, buf, n, max - n, n);
    return n === 0 ? undefined : buf.subarray(0, n).toString('utf8');
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}
