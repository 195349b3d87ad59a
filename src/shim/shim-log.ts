import { closeSync, constants, createWriteStream, openSync } from 'node:fs';
import { join } from 'node:path';
import type { Writable } from 'node:stream';

/**
 * The daemon's log sink: the bundle's `log` FIFO that containerd opened (and copies to its own stderr), or
 * nothing when no reader is there. Opening a FIFO for writing blocks until a reader exists, so probe with
 * O_NONBLOCK first (ENXIO = no reader), then open it blocking so writes never fail with EAGAIN.
 */
export function openShimLog(bundle: string): Writable | undefined {
  const path = join(bundle, 'log');
  try {
    const probe = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
    closeSync(probe);
    return createWriteStream(path, { flags: 'w' });
  } catch {
    return undefined;
  }
}
