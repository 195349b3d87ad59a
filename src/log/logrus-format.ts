import { isoTime } from './iso-time.js';

/** Quotes a value the way logrus' text formatter does: bare when it is a simple token, else %q-style. */
function quote(value: unknown): string {
  let text: string;
  if (value instanceof Error) text = value.message;
  else if (typeof value === 'string') text = value;
  else if (typeof value === 'object' && value !== null) text = JSON.stringify(value);
  else text = String(value);
  return /^[A-Za-z0-9\-._/@^+]+$/.test(text) ? text : JSON.stringify(text);
}

/** Keys a log entry's fields may not use (the line's own time, level and msg come first). */
const RESERVED = new Set(['level', 'message', 'timestamp', 'splat']);

/**
 * Renders `time="…" level=info msg="…" k=v` and a newline, the text containerd writes for its own and its
 * shims' logs: fields sorted by key, as logrus' text formatter does.
 */
export function logrusLine(entry: { level: string; message: string } & Record<string, unknown>): string {
  let line = `time=${quote(isoTime())} level=${entry.level} msg=${quote(entry.message)}`;
  for (const key of Object.keys(entry).sort()) {
    if (!RESERVED.has(key)) line += ` ${key}=${quote(entry[key])}`;
  }
  return `${line}\n`;
}
