/**
 * The guest agent's logger: logrus-compatible lines on stderr, the format Microsoft's /bin/gcs writes and the
 * host's log reader (hcsshim vmutils.ParseGCSLogrus) parses. JSON: one object per line with `time`
 * (RFC3339Nano, trailing zeros dropped), `level`, `msg` and the fields, keys sorted as Go's encoder sorts a
 * map. Text: `time="…" level=info msg="…" k=v`. The guest never imports src/log (it shares nothing but the
 * codec with the host side).
 */

export type GuestLogLevel = 'trace' | 'debug' | 'info' | 'warning' | 'error' | 'fatal';
export type GuestLogFormat = 'json' | 'text';
export type LogFields = Record<string, unknown>;

const RANK: Readonly<Record<GuestLogLevel, number>> = { trace: 0, debug: 1, info: 2, warning: 3, error: 4, fatal: 5 };

/**
 * RFC3339Nano as Go prints it: fractional seconds without trailing zeros, UTC as "Z". Built from the UTC
 * fields, not toISOString, which in Node 20 looks up the local time zone's name in ICU on every call and
 * maps ~0.8 MB of ICU data into the agent on the first (see src/log/iso-time.ts for the host's twin).
 */
export function rfc3339Nano(date: Date): string {
  const two = (n: number): string => String(n).padStart(2, '0');
  const ms = date.getUTCMilliseconds();
  const frac = ms === 0 ? '' : `.${String(ms).padStart(3, '0').replace(/0+$/, '')}`;
  return `${String(date.getUTCFullYear()).padStart(4, '0')}-${two(date.getUTCMonth() + 1)}-${two(date.getUTCDate())}` +
    `T${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())}${frac}Z`;
}

function fieldValue(value: unknown): unknown {
  if (value instanceof Error) return value.message;
  return value;
}

function textValue(value: unknown): string {
  const v = fieldValue(value);
  const text = typeof v === 'string' ? v : typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);
  return /^[A-Za-z0-9\-._/@^+]+$/.test(text) ? text : JSON.stringify(text);
}

/** Renders one log line (without the newline). Exposed for tests. */
export function formatLogLine(format: GuestLogFormat, level: GuestLogLevel, msg: string, fields: LogFields, now: Date): string {
  const keys = Object.keys(fields).filter((k) => k !== 'time' && k !== 'level' && k !== 'msg' && fields[k] !== undefined);
  if (format === 'json') {
    const all: LogFields = { level, msg, time: rfc3339Nano(now) };
    for (const k of keys) all[k] = fieldValue(fields[k]);
    const sorted: LogFields = {};
    for (const k of Object.keys(all).sort()) sorted[k] = all[k];
    return JSON.stringify(sorted);
  }
  const parts = [`time=${textValue(rfc3339Nano(now))}`, `level=${level}`, `msg=${textValue(msg)}`];
  for (const k of keys.sort()) parts.push(`${k}=${textValue(fields[k])}`);
  return parts.join(' ');
}

export interface GuestLoggerOptions {
  level: GuestLogLevel;
  format: GuestLogFormat;
  /** Where lines go; default process.stderr. */
  write?: (line: string) => void;
}

/** A small structured logger with inherited fields (logrus' WithFields). */
export class GuestLogger {
  constructor(
    private readonly opts: GuestLoggerOptions,
    private readonly fields: LogFields = {},
  ) {}

  with(fields: LogFields): GuestLogger {
    return new GuestLogger(this.opts, { ...this.fields, ...fields });
  }

  enabled(level: GuestLogLevel): boolean {
    return RANK[level] >= RANK[this.opts.level];
  }

  log(level: GuestLogLevel, msg: string, fields: LogFields = {}): void {
    if (!this.enabled(level)) return;
    const line = formatLogLine(this.opts.format, level, msg, { ...this.fields, ...fields }, new Date());
    (this.opts.write ?? ((l: string) => process.stderr.write(l)))(line + '\n');
  }

  trace(msg: string, fields?: LogFields): void {
    this.log('trace', msg, fields);
  }
  debug(msg: string, fields?: LogFields): void {
    this.log('debug', msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.log('info', msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.log('warning', msg, fields);
  }
  error(msg: string, fields?: LogFields): void {
    this.log('error', msg, fields);
  }
  /** logrus Fatal's line (the caller then exits with status 1, as logrus.Fatal does). */
  fatal(msg: string, fields?: LogFields): void {
    this.log('fatal', msg, fields);
  }
}

/** A logger that drops everything (tests). */
export const silentLogger = (): GuestLogger => new GuestLogger({ level: 'error', format: 'json', write: () => {} });

/**
 * A rejection handler for a rollback or teardown step in the guest: logs at warning what failed and why and
 * resolves undefined, so the step's own error is the one reported (the host side's logTeardown, on the guest's
 * logger).
 */
export function logTeardown(log: GuestLogger, what: string, fields?: LogFields): (err: unknown) => undefined {
  return (err) => {
    log.warn(`teardown: ${what} failed`, { ...fields, error: err instanceof Error ? err.message : String(err) });
    return undefined;
  };
}
