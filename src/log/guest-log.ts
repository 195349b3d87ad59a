import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { Field } from './fields.js';
import { normalizeLevel, type Logger, type LogLevel } from './logger.js';

/**
 * The guest's log stream (vsock port 109): the GCS runs under `vsockexec -e 109`, so its stderr arrives
 * here as logrus JSON objects, one after another (normally one per line, but any whitespace or none may
 * separate them, and the transport may cut them anywhere). hcsshim decodes them with a streaming JSON
 * decoder and re-logs each one on the host; when the decoder hits something that is not JSON (a Go panic
 * stack, a shell message) it reads the rest of the stream and logs it once as "gcs terminated".
 *
 * Differences from hcsshim, deliberately lenient: an unknown `level` becomes info (hcsshim fails the
 * decode) and a `time` that is not a string is passed through as the `vm.time` field unchanged.
 */

/** A single guest object is at most this big; a bigger one is treated as garbage (sizes checked first). */
export const MAX_GUEST_LOG_ENTRY = 1 << 20;
/** At most this much of the raw tail is kept for the "gcs terminated" entry. */
export const MAX_GUEST_LOG_TAIL = 1 << 20;

/** One decoded guest log entry, ready for the host logger. */
export interface GuestLogEntry {
  level: LogLevel;
  msg: string;
  /** The guest's timestamp (`time`), logged as field `vm.time`. */
  time?: unknown;
  fields: Record<string, unknown>;
}

/** Keys our logger and logrus formatter treat specially; guest fields with these names get a `fields.` prefix. */
const CLASHING = new Set(['level', 'message', 'timestamp', 'splat', Field.UvmId, 'vm.time']);

/**
 * Incremental decoder for a stream of JSON objects. Pure: no I/O, no timers. `push` returns the entries
 * completed by a chunk; after the first malformed value it stops decoding and only collects the raw
 * text, which `end` returns (trimmed; empty when the stream ended cleanly between objects).
 */
export class GuestLogDecoder {
  private readonly utf8 = new StringDecoder('utf8');
  private buf = '';
  /** Scan state inside the current object (buf[0] is its '{' once started). */
  private pos = 0;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private tail: string | undefined;
  private tailTruncated = false;

  /** True once a malformed value was met (everything after it is raw text). */
  get failed(): boolean {
    return this.tail !== undefined;
  }

  push(chunk: Buffer | string): GuestLogEntry[] {
    const text = typeof chunk === 'string' ? chunk : this.utf8.write(chunk);
    if (this.tail !== undefined) {
      this.appendTail(text);
      return [];
    }
    this.buf += text;
    const out: GuestLogEntry[] = [];
    while (this.tail === undefined) {
      const value = this.nextValue();
      if (value === undefined) break;
      const entry = toEntry(value);
      if (entry === undefined) this.fail(value);
      else out.push(entry);
    }
    return out;
  }

  /** Ends the stream: returns the raw text to report as "gcs terminated", or '' when there is none. */
  end(): { raw: string; truncated: boolean } {
    const rest = this.utf8.end();
    if (this.tail === undefined) {
      this.buf += rest;
      this.fail('');
    } else this.appendTail(rest);
    return { raw: (this.tail ?? '').trim(), truncated: this.tailTruncated };
  }

  /** Scans for one complete top-level value; returns its text, or undefined when more input is needed. */
  private nextValue(): string | undefined {
    if (this.depth === 0) {
      const start = this.buf.search(/\S/);
      if (start < 0) {
        this.buf = '';
        return undefined;
      }
      this.buf = this.buf.slice(start);
      this.pos = 0;
      if (this.buf[0] !== '{') {
        this.fail('');
        return undefined;
      }
    }
    for (; this.pos < this.buf.length; this.pos++) {
      const c = this.buf.charCodeAt(this.pos);
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === 0x5c /* \ */) this.escaped = true;
        else if (c === 0x22 /* " */) this.inString = false;
      } else if (c === 0x22) this.inString = true;
      else if (c === 0x7b /* { */ || c === 0x5b /* [ */) this.depth++;
      else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
        this.depth--;
        if (this.depth === 0) {
          const value = this.buf.slice(0, this.pos + 1);
          this.buf = this.buf.slice(this.pos + 1);
          this.pos = 0;
          return value;
        }
      }
    }
    if (this.buf.length > MAX_GUEST_LOG_ENTRY) this.fail('');
    return undefined;
  }

  /** Switches to raw mode; `prefix` is text already taken out of the buffer that belongs to the tail. */
  private fail(prefix: string): void {
    const pending = this.buf;
    this.buf = '';
    this.depth = 0;
    this.inString = false;
    this.escaped = false;
    this.tail = '';
    this.appendTail(prefix + pending);
  }

  private appendTail(text: string): void {
    const room = MAX_GUEST_LOG_TAIL - (this.tail ?? '').length;
    if (text.length > room) this.tailTruncated = true;
    this.tail = (this.tail ?? '') + text.slice(0, Math.max(0, room));
  }
}

/** Turns one JSON object text into an entry; undefined when it is not a JSON object. */
function toEntry(text: string): GuestLogEntry | undefined {
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return undefined;
  const { time, level, msg, ...rest } = obj as Record<string, unknown>;
  let message = typeof msg === 'string' ? msg : msg === undefined ? '' : JSON.stringify(msg);
  // Entries forwarded from Windows ETW carry their text in `message` or `Message`.
  if (rest['Source'] === 'ETW') {
    for (const key of ['message', 'Message']) {
      const m = rest[key];
      if (typeof m === 'string') {
        message = m;
        delete rest[key];
        break;
      }
    }
  }
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(rest)) fields[CLASHING.has(key) ? `fields.${key}` : key] = value;
  return {
    level: normalizeLevel(typeof level === 'string' ? level : undefined, 'info'),
    msg: message,
    time,
    fields,
  };
}

/** Errors that mean "the guest went away", which is how the log stream normally ends. */
function isDisconnect(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return (
    code === 'ECONNRESET' || code === 'ECONNABORTED' || code === 'EPIPE' || code === 'ERR_STREAM_PREMATURE_CLOSE'
  );
}

/** Logs one decoded entry on the host logger with the uvm-id and vm.time fields. */
export function logGuestEntry(logger: Logger, uvmId: string, entry: GuestLogEntry): void {
  const meta: Record<string, unknown> = { ...entry.fields, [Field.UvmId]: uvmId };
  if (entry.time !== undefined) meta['vm.time'] = entry.time;
  logger.log(entry.level, entry.msg, meta);
}

/**
 * Reads the guest's logrus JSON stream until it ends and re-logs every entry (hcsshim's parseLogrus).
 * Never rejects: a read error other than a disconnect is logged as "gcs log read". The stream is destroyed
 * once it has ended (the guest's end is the connection's), without an error.
 *
 * Plain 'data'/'end' listeners, not `for await`: at its end a stream's async iterator destroys a
 * connection whose writable side is still open (this one is half-open) with a new AbortError, and Node reads
 * that error's stack (streams' checkError), which formats it: V8 then computes the line ends of every
 * script on the stack, the 0.7 MB bundle included. That was ~1.4 ms of the daemon's CPU per container
 * (perf: all of its CalculateLineEnds samples), in the loop turn the VM's close waits for.
 */
export function parseGuestLog(stream: Readable, logger: Logger, uvmId: string): Promise<void> {
  const decoder = new GuestLogDecoder();
  return new Promise((resolve) => {
    let done = false;
    const finish = (err?: unknown): void => {
      if (done) return;
      done = true;
      if (err !== undefined && !isDisconnect(err)) logger.error('gcs log read', { [Field.UvmId]: uvmId, error: err });
      stream.destroy();
      const { raw, truncated } = decoder.end();
      if (raw !== '') {
        const meta: Record<string, unknown> = { [Field.UvmId]: uvmId, stderr: raw };
        if (truncated) meta['truncated'] = true;
        logger.error('gcs terminated', meta);
      }
      resolve();
    };
    stream.on('data', (chunk: Buffer | string) => {
      if (!done) for (const entry of decoder.push(chunk)) logGuestEntry(logger, uvmId, entry);
    });
    stream.once('end', () => finish());
    stream.on('error', (err: unknown) => finish(err));
    // Closed without an end or an error (destroyed by someone else): the guest went away.
    stream.once('close', () => finish());
  });
}
