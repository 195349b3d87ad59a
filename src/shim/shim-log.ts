import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { openLogFifo } from './log-fifo.js';

/**
 * The daemon's log sink: the bundle's `log` FIFO that containerd opened (and copies to its own stderr), or
 * nothing when no reader is there. The writer survives containerd restarts without ever blocking the shim
 * (log-fifo.ts).
 */
export function openShimLog(bundle: string): Writable | undefined {
  return openLogFifo(join(bundle, 'log'));
}

/**
 * The "shim start" milestone: one logrus-format debug line into the bundle's `log` FIFO (when a reader is
 * there), written directly, without the log module, from the short-lived `start` process (the time it began)
 * or from `serve` started by the executable's sh `start` (which cannot open the FIFO without blocking), with
 * the time `at` (ISO 8601, as toISOString writes it) and the fields given. Never throws.
 */
export function logStartMilestone(bundle: string, fields: Record<string, string>, at: string): void {
  const value = (v: string): string => (/^[A-Za-z0-9\-._/@^+]+$/.test(v) ? v : JSON.stringify(v));
  const kv = Object.keys(fields).sort().map((k) => `${k}=${value(fields[k] ?? '')}`);
  const line = [`time="${at}"`, 'level=debug', 'msg="shim start"', ...kv].join(' ') + '\n';
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
