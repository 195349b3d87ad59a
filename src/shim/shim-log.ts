import { closeSync, constants, createWriteStream, openSync, writeSync } from 'node:fs';
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

/**
 * One logrus-format debug line from the short-lived `start` process into the bundle's `log` FIFO (when a
 * reader is there), marking when `start` began. Written directly, without the winston logger, which would
 * cost `start` more time than the whole action. Never throws.
 */
export function logStartMilestone(bundle: string, fields: Record<string, string>, at: Date): void {
  const value = (v: string): string => (/^[A-Za-z0-9\-._/@^+]+$/.test(v) ? v : JSON.stringify(v));
  const kv = Object.keys(fields).sort().map((k) => `${k}=${value(fields[k] ?? '')}`);
  const line = [`time="${at.toISOString()}"`, 'level=debug', 'msg="shim start"', ...kv].join(' ') + '\n';
  try {
    const fd = openSync(join(bundle, 'log'), constants.O_WRONLY | constants.O_NONBLOCK);
    try {
      writeSync(fd, line);
    } finally {
      closeSync(fd);
    }
  } catch {
    // no reader (containerd not copying the log) or a full pipe: the milestone is only diagnostics
  }
}
