import { Writable } from 'node:stream';
import winston from 'winston';
import type { Logger } from '../../src/log/index.js';

/** A logger (all levels, trace included) that records every info object it is given, for assertions. */
export function captureLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    objectMode: true,
    write(info: Record<string, unknown>, _enc, cb) {
      lines.push({ ...info });
      cb();
    },
  });
  const logger = winston.createLogger({
    levels: { error: 0, warn: 1, info: 2, debug: 3, trace: 4 },
    level: 'trace',
    transports: [new winston.transports.Stream({ stream: sink })],
  });
  return { logger, lines };
}
