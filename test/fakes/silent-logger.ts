import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/log/index.js';

/** A logger whose output goes nowhere (debug level, so every log call's formatting still runs). */
export function silentLogger(): Logger {
  const sink = new Writable({ write: (_chunk, _enc, cb) => cb() });
  return createLogger({ level: 'debug', stream: sink });
}
