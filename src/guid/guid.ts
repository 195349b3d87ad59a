/**
 * GUIDs as Windows uses them: the canonical string form and the 16-byte in-memory/on-disk layout
 * ({u32 Data1; u16 Data2; u16 Data3; u8 Data4[8]} with Data1..3 little-endian, "mixed-endian"). One
 * implementation for Hyper-V socket addresses (src/transport) and VHDX headers and metadata (src/vhd).
 */
import { invalidArgument } from '../errdefs/index.js';
import { randomUUID } from '../random/index.js';

export const ZERO_GUID = '00000000-0000-0000-0000-000000000000';

/** A new random (v4) GUID, lower case. */
export const newGuid = (): string => randomUUID();

const GUID_RE = /^\{?([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})\}?$/i;

/** True when `text` is a GUID in canonical form (braces optional, any case). */
export function isGuid(text: string): boolean {
  return GUID_RE.test(text);
}

/** Canonical lower-case form of a GUID string; throws InvalidArgument naming the bad value. */
export function normalizeGuid(text: string): string {
  const m = GUID_RE.exec(text);
  if (m === null) throw invalidArgument(`not a GUID: ${JSON.stringify(text)} (want xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)`);
  return `${m[1]}-${m[2]}-${m[3]}-${m[4]}-${m[5]}`.toLowerCase();
}

/** The 16 bytes of a GUID as Windows lays it out in memory (Data1/2/3 little-endian, Data4 as written). */
export function guidToBytes(text: string): Buffer {
  const hex = normalizeGuid(text).replaceAll('-', '');
  const out = Buffer.alloc(16);
  out.writeUInt32LE(Number.parseInt(hex.slice(0, 8), 16), 0);
  out.writeUInt16LE(Number.parseInt(hex.slice(8, 12), 16), 4);
  out.writeUInt16LE(Number.parseInt(hex.slice(12, 16), 16), 6);
  Buffer.from(hex.slice(16), 'hex').copy(out, 8);
  return out;
}

/** Inverse of guidToBytes: reads 16 bytes at `offset` and returns the canonical lower-case string. */
export function guidFromBytes(bytes: Uint8Array, offset = 0): string {
  if (offset < 0 || bytes.length - offset < 16) {
    throw invalidArgument(`a GUID needs 16 bytes at offset ${offset}, buffer has ${bytes.length}`);
  }
  const b = Buffer.from(bytes.buffer, bytes.byteOffset + offset, 16);
  const d1 = b.readUInt32LE(0).toString(16).padStart(8, '0');
  const d2 = b.readUInt16LE(4).toString(16).padStart(4, '0');
  const d3 = b.readUInt16LE(6).toString(16).padStart(4, '0');
  const d4 = b.subarray(8, 10).toString('hex');
  const d5 = b.subarray(10, 16).toString('hex');
  return `${d1}-${d2}-${d3}-${d4}-${d5}`;
}
