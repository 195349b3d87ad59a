import { format } from 'winston';

/** Quotes a value the way logrus' text formatter does: bare when it is a simple token, else %q-style. */
function quote(value: unknown): string {
  let text: string;
  if (value instanceof Error) text = value.message;
  else if (typeof value === 'string') text = value;
  else if (typeof value === 'object' && value !== null) text = JSON.stringify(value);
  else text = String(value);
  return /^[A-Za-z0-9\-._/@^+]+$/.test(text) ? text : JSON.stringify(text);
}

const RESERVED = new Set(['level', 'message', 'timestamp', 'splat']);

/** Renders `time="…" level=info msg="…" k=v`, the text containerd writes for its own and its shims' logs. */
export const logrusText = format((info) => {
  const parts = [`time=${quote(new Date().toISOString())}`, `level=${info.level}`, `msg=${quote(info.message)}`];
  for (const key of Object.keys(info).sort()) {
    if (!RESERVED.has(key)) parts.push(`${key}=${quote(info[key])}`);
  }
  (info as unknown as Record<symbol, string>)[Symbol.for('message')] = parts.join(' ');
  return info;
});
