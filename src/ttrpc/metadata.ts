import type { ttrpc } from '../proto/index.js';

/** The metadata key containerd sets on every call to a shim and on every event Forward. */
export const NAMESPACE_METADATA_KEY = 'containerd-namespace-ttrpc';

/**
 * Call metadata: lower-cased keys, each with every value it was sent with, in order (keys may repeat on
 * the wire, as `repeated KeyValue`).
 */
export type Metadata = ReadonlyMap<string, readonly string[]>;

/** What a caller may pass: pairs (keys may repeat) or a record of one value or several per key. */
export type MetadataInit = Iterable<readonly [string, string]> | Readonly<Record<string, string | readonly string[]>>;

/** Builds Metadata from wire pairs (ttrpc.KeyValue), lower-casing keys like Go's MD.Set/Get. */
export function metadataFromPairs(pairs: Iterable<ttrpc.KeyValue.$Properties> | null | undefined): Metadata {
  const md = new Map<string, string[]>();
  for (const kv of pairs ?? []) {
    const key = (kv.key ?? '').toLowerCase();
    const values = md.get(key);
    if (values === undefined) md.set(key, [kv.value ?? '']);
    else values.push(kv.value ?? '');
  }
  return md;
}

/** Flattens MetadataInit into wire pairs with lower-cased keys, keeping repeats and their order. */
export function metadataToPairs(init: MetadataInit | undefined): ttrpc.KeyValue.$Properties[] {
  if (init === undefined) return [];
  const out: ttrpc.KeyValue.$Properties[] = [];
  const entries: Iterable<readonly [string, string | readonly string[]]> =
    Symbol.iterator in init ? (init as Iterable<readonly [string, string]>) : Object.entries(init);
  for (const [key, value] of entries) {
    const values: readonly string[] = typeof value === 'string' ? [value] : value;
    for (const v of values) out.push({ key: key.toLowerCase(), value: v });
  }
  return out;
}

/** The first value of `key` (case-insensitive), or undefined. */
export function metadataValue(md: Metadata, key: string): string | undefined {
  return md.get(key.toLowerCase())?.[0];
}
