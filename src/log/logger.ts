import type { Writable } from 'node:stream';
import winston from 'winston';
import { logrusText } from './logrus-format.js';

export type Logger = winston.Logger;
export type LogLevel = 'error' | 'warn' | 'info' | 'debug' | 'trace';

const LEVELS: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3, trace: 4 };

/** Levels by logrus name; logrus' panic and fatal are clamped to error. */
export function normalizeLevel(level: string | undefined, fallback: LogLevel = 'info'): LogLevel {
  const l = (level ?? '').toLowerCase();
  if (l === 'panic' || l === 'fatal') return 'error';
  if (l === 'warning') return 'warn';
  return l in LEVELS ? (l as LogLevel) : fallback;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Where the text goes: never stdout (containerd reads `start`'s stdout as the address). Default stderr. */
  stream?: Writable;
  fields?: Record<string, unknown>;
}

/** A winston logger in containerd's (logrus text) format. */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const stream = opts.stream ?? process.stderr;
  return skipDisabledLevels(winston.createLogger({
    levels: LEVELS,
    level: opts.level ?? 'info',
    format: logrusText(),
    defaultMeta: opts.fields,
    transports: [new winston.transports.Stream({ stream })],
  }));
}

/**
 * winston filters levels only in the transport, after building the info object, passing it through its
 * stream and formatting the whole line: a debug call at info level cost as much as a written one (the Task
 * service logs every RPC at debug). Each level method now returns at once when its level is off, for the
 * logger and its children (which inherit the methods and the level).
 */
function skipDisabledLevels(logger: winston.Logger): winston.Logger {
  const methods = logger as unknown as Record<LogLevel, (...args: unknown[]) => winston.Logger>;
  for (const level of Object.keys(LEVELS) as LogLevel[]) {
    const write = methods[level];
    methods[level] = function (this: winston.Logger | undefined, ...args: unknown[]) {
      const self = this ?? logger; // winston's methods work detached too
      return self.isLevelEnabled(level) ? write.apply(self, args) : self;
    };
  }
  return logger;
}

let root: Logger | undefined;

/** The process-wide root logger; children carry fields (logger.child({cid})). Silent until configured. */
export function rootLogger(): Logger {
  root ??= winston.createLogger({ levels: LEVELS, silent: true, transports: [new winston.transports.Console()] });
  return root;
}

/** Installs the root logger (once, at process start). */
export function setRootLogger(logger: Logger): void {
  root = logger;
}
