import { ShimError, ErrorCode } from '../../errdefs/index.js';
import { SCHEMA, type FieldKind, type TypeName } from './field-order.js';

/**
 * Encodes a schema2 document exactly as hcsshim's Go structs marshal (encoding/json, every field
 * `omitempty`):
 * - false, 0, "", null/undefined and empty slices or maps are left out;
 * - a present struct (a Go pointer) is written even when empty: `"Plan9":{}`, `"Keyboard":{}`;
 * - map entries are always written (`"Scsi":{"0":{}}`), with keys sorted as Go sorts them;
 * - struct fields come in Go declaration order, unknown extra fields after them in insertion order;
 * - `<`, `>`, `&`, U+2028 and U+2029 are escaped as Go's HTML-safe encoder does.
 * Invalid values (non-finite numbers, bigint, functions) are rejected with InvalidArgument.
 */
export function toHcsJson(doc: unknown, type: TypeName = 'ComputeSystem'): string {
  const shaped = encodeStruct(doc, type, type);
  return goEscape(JSON.stringify(shaped));
}

/** Same as toHcsJson but returns the shaped plain value (for tests and for embedding). */
export function toHcsValue(doc: unknown, type: TypeName = 'ComputeSystem'): unknown {
  return encodeStruct(doc, type, type);
}

function encodeStruct(value: unknown, type: TypeName | 'any', where: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw bad(where, `expected an object, got ${describe(value)}`);
  }
  const fields: Readonly<Record<string, FieldKind>> = type === 'any' ? {} : SCHEMA[type];
  const src = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  const keys = [...Object.keys(fields).filter((k) => k in src), ...Object.keys(src).filter((k) => !(k in fields))];
  for (const key of keys) {
    const kind = fields[key] ?? 'any';
    const enc = encodeField(src[key], kind, `${where}.${key}`);
    if (enc !== undefined) out[key] = enc;
  }
  return out;
}

/** Encodes one struct field; undefined means "omitted by omitempty". */
function encodeField(value: unknown, kind: FieldKind, where: string): unknown {
  if (value === undefined || value === null) return undefined;
  if (kind === 'scalar' || kind === 'any') {
    if (isEmptyScalar(value)) return undefined;
    if (Array.isArray(value)) return value.length === 0 ? undefined : value.map((v, i) => encodeAny(v, `${where}[${i}]`));
    return encodeAny(value, where);
  }
  if ('struct' in kind) return encodeStruct(value, kind.struct, where);
  if ('map' in kind) {
    if (typeof value !== 'object' || Array.isArray(value)) throw bad(where, `expected a map, got ${describe(value)}`);
    const entries = Object.keys(value).sort(goKeyOrder);
    if (entries.length === 0) return undefined;
    const out: Record<string, unknown> = {};
    for (const k of entries) {
      const v = (value as Record<string, unknown>)[k];
      out[k] = kind.map === 'any' ? encodeAny(v, `${where}.${k}`) : encodeStruct(v, kind.map, `${where}.${k}`);
    }
    return out;
  }
  if (!Array.isArray(value)) throw bad(where, `expected an array, got ${describe(value)}`);
  if (value.length === 0) return undefined;
  const elem = kind.array;
  return value.map((v, i) =>
    elem === 'scalar' || elem === 'any' ? encodeAny(v, `${where}[${i}]`) : encodeStruct(v, elem, `${where}[${i}]`),
  );
}

/** Opaque values (interface{} in Go): objects get the generic omitempty treatment. */
function encodeAny(value: unknown, where: string): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw bad(where, `non-finite number ${value}`);
      return value;
    case 'object':
      if (value === null) return null;
      if (Array.isArray(value)) return value.map((v, i) => encodeAny(v, `${where}[${i}]`));
      return encodeStruct(value, 'any', where);
    default:
      throw bad(where, `cannot encode ${describe(value)}`);
  }
}

const isEmptyScalar = (v: unknown): boolean => v === false || v === 0 || v === '';

/** Go sorts map keys by their UTF-8 bytes; for the ASCII keys HCS uses this is code-unit order. */
const goKeyOrder = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

function goEscape(json: string): string {
  return json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function describe(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

function bad(where: string, what: string): ShimError {
  return new ShimError(ErrorCode.InvalidArgument, `HCS document ${where}: ${what}`);
}
