import { GcsProtocolError } from './errors.js';
import { parseJsonExact, stringifyExact } from './exact-json.js';

/**
 * JSON helpers for bodies. A body must be a JSON object (a trailing newline, as Go's json.Encoder writes,
 * is fine). Several fields are "JSON in a string": the value is serialized, then carried as a JSON string
 * (hcsshim AnyInString): ContainerConfig, ProcessParameters, Query, Properties, ResultInfo.
 */

/** Parses a frame body into an object; anything else is a GcsProtocolError('invalid-json'). */
export function parseJsonBody(body: Uint8Array): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  } catch (err) {
    throw new GcsProtocolError('invalid-json', `message body is not valid JSON: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new GcsProtocolError('invalid-json', 'message body is not a JSON object');
  }
  return value as Record<string, unknown>;
}

/** Serializes `value` for a JSON-in-a-string field. */
export function toJsonString(value: unknown): string {
  return stringifyExact(value);
}

/**
 * Reads a JSON-in-a-string field: `field` names it for the error. An absent or empty string is undefined
 * (omitempty); a string that is not JSON is a GcsProtocolError('invalid-json').
 */
export function fromJsonString<T = unknown>(raw: unknown, field: string, opts: { exact?: boolean } = {}): T | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  if (typeof raw !== 'string') throw new GcsProtocolError('invalid-field', `${field} must be a string holding JSON`);
  try {
    // exact: integers beyond 2^53 (Go's uint64 counters and limits) are read as bigints (exact-json.ts).
    return (opts.exact === true ? parseJsonExact(raw) : JSON.parse(raw)) as T;
  } catch (err) {
    throw new GcsProtocolError('invalid-json', `${field} does not hold valid JSON: ${(err as Error).message}`, {
      cause: err,
    });
  }
}
