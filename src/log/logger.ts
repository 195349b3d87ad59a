import type { Writable } from 'node:stream';
import { logrusLine } from './logrus-format.js';

export type LogLevel = 'error' | 'warn' | 'info' | 'debug' | 'trace';
export type LogFields = Record<string, unknown>;
/** One log call, as a sink receives it: the level, the message and the merged fields (call's win over the child's). */
export type LogEntry = { level: LogLevel; message: string } & LogFields;
type LogMethod = (message: string, fields?: LogFields) => Logger;

const LEVELS: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3, trace: 4 };

/** Levels by logrus name; logrus' panic and fatal are clamped to error. */
export function normalizeLevel(level: string | undefined, fallback: LogLevel = 'info'): LogLevel {
  const l = (level ?? '').toLowerCase();
  if (l === 'panic' || l === 'fatal') return 'error';
  if (l === 'warning') return 'warn';
  return l in LEVELS ? (l as LogLevel) : fallback;
}

/** What a logger and all its children share: the level (changing it affects them all) and where lines go. */
interface LoggerCore {
  rank: number;
  level: LogLevel;
  emit: (entry: LogEntry) => void;
}

/**
 * A small logger in containerd's (logrus text) format, replacing winston (which cost ~5 MB of RSS and a
 * large share of the daemon's load time). The level methods check the level first and return at once when
 * it is off, without reading their fields; they work detached (`const { warn } = log`). A write is one
 * synchronous `stream.write` of the whole line.
 */
export class Logger {
  readonly error: LogMethod;
  readonly warn: LogMethod;
  readonly info: LogMethod;
  readonly debug: LogMethod;
  readonly trace: LogMethod;

  constructor(
    private readonly core: LoggerCore,
    private readonly fields: LogFields | undefined,
  ) {
    this.error = (message, fields) => this.log('error', message, fields);
    this.warn = (message, fields) => this.log('warn', message, fields);
    this.info = (message, fields) => this.log('info', message, fields);
    this.debug = (message, fields) => this.log('debug', message, fields);
    this.trace = (message, fields) => this.log('trace', message, fields);
  }

  get level(): LogLevel {
    return this.core.level;
  }

  /** Sets the level of this logger, its root and every child of them. */
  set level(level: LogLevel) {
    this.core.level = level;
    this.core.rank = LEVELS[level];
  }

  isLevelEnabled(level: LogLevel): boolean {
    return LEVELS[level] <= this.core.rank;
  }

  log(level: LogLevel, message: string, fields?: LogFields): Logger {
    if (LEVELS[level] > this.core.rank) return this;
    this.core.emit({ ...this.fields, ...fields, level, message: String(message) });
    return this;
  }

  /** A logger whose lines carry `fields` as well (the child's override the parent's). */
  child(fields: LogFields): Logger {
    return new Logger(this.core, { ...this.fields, ...fields });
  }
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Where the text goes: never stdout (containerd reads `start`'s stdout as the address). Default stderr. */
  stream?: Writable;
  fields?: LogFields;
  /** Instead of a stream: receives each entry unformatted (test capture). */
  emit?: (entry: LogEntry) => void;
}

/** Sinks that failed (an 'error' event): nothing more is written to them. */
const failedSinks = new WeakSet<Writable>();
/** Sinks whose failure is watched (one listener per stream, however many loggers write to it). */
const watchedSinks = new WeakSet<Writable>();

/**
 * Watches `stream` for failure. A sink that fails is given up: process.stderr whose reader went away (EPIPE)
 * is never destroyed (Node keeps fd 2 open), so without this each line written to it failed again, and with
 * no 'error' listener each failure was an uncaught exception, which the serve daemon's crash guard logs to
 * the same sink: a loop on the microtask queue that starved the event loop (a daemon asked to exit spun at
 * full CPU and never did). The failure itself has nowhere left to be logged; the lines after it are dropped.
 */
function watchSink(stream: Writable): void {
  if (watchedSinks.has(stream)) return;
  watchedSinks.add(stream);
  stream.on('error', () => failedSinks.add(stream));
}

/** A logger in containerd's (logrus text) format. */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const level = opts.level ?? 'info';
  const stream = opts.stream ?? process.stderr;
  if (opts.emit === undefined) watchSink(stream);
  const emit =
    opts.emit ??
    ((entry: LogEntry) => {
      // A line logged after the sink was closed (shutdown) is dropped, not an 'error' event; so is one after
      // the sink failed (watchSink).
      if (!stream.writableEnded && !stream.destroyed && !failedSinks.has(stream)) stream.write(logrusLine(entry));
    });
  return new Logger({ level, rank: LEVELS[level], emit }, opts.fields);
}

let root: Logger | undefined;

/** The process-wide root logger; children carry fields (logger.child({cid})). Silent until configured. */
export function rootLogger(): Logger {
  root ??= new Logger({ level: 'info', rank: -1, emit: () => undefined }, undefined);
  return root;
}

/** Installs the root logger (once, at process start). */
export function setRootLogger(logger: Logger): void {
  root = logger;
}
