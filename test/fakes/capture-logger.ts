import { createLogger, type LogEntry, type Logger } from '../../src/log/index.js';

/** A logger (all levels, trace included) that records every entry it is given, for assertions. */
export function captureLogger(): { logger: Logger; lines: LogEntry[] } {
  const lines: LogEntry[] = [];
  const logger = createLogger({ level: 'trace', emit: (entry) => lines.push(entry) });
  return { logger, lines };
}
