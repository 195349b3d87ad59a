/**
 * GUIDs as Hyper-V sockets use them: the canonical string form and the 16-byte in-memory layout
 * ({u32 Data1; u16 Data2; u16 Data3; u8 Data4[8]} with Data1..3 little-endian, "mixed-endian"),
 * plus the AF_VSOCK port ↔ service id mapping (go-winio's VsockServiceID).
 * Pure functions: no sockets, no platform checks.
 */
import { invalidArgument } from '../errdefs/index.js';

/** The vsock service template: the service id of vsock port P is this GUID with Data1 = P. */
export const HV_GUID_VSOCK_TEMPLATE = '00000000-facb-11e6-bd58-64006a7986d3';
export const HV_GUID_ZERO = '00000000-0000-0000-0000-000000000000';
export const HV_GUID_WILDCARD = HV_GUID_ZERO;
export const HV_GUID_BROADCAST = 'ffffffff-ffff-ffff-ffff-ffffffffffff';
export const HV_GUID_CHILDREN = '90db8b89-0d35-4f79-8ce9-49ea0ac8b7cd';
export const HV_GUID_LOOPBACK = 'e0e16197-dd56-4a10-9195-5ee7a155a838';
export const HV_GUID_PARENT = 'a42e7cda-d03f-480c-9cc2-a4de20abb878';

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

/** VsockServiceID(port): the template GUID with Data1 = port (port is a u32). */
export function vsockServiceId(port: number): string {
  if (!Number.isInteger(port) || port < 0 || port > 0xffffffff) {
    throw invalidArgument(`vsock port must be an integer in 0..0xFFFFFFFF, got ${port}`);
  }
  return port.toString(16).padStart(8, '0') + HV_GUID_VSOCK_TEMPLATE.slice(8);
}

/**
 * The vsock port a service id stands for, or undefined when the GUID is well formed but not derived
 * from the vsock template. A malformed GUID throws InvalidArgument.
 */
export function portFromServiceId(serviceId: string): number | undefined {
  const g = normalizeGuid(serviceId);
  if (g.slice(8) !== HV_GUID_VSOCK_TEMPLATE.slice(8)) return undefined;
  return Number.parseInt(g.slice(0, 8), 16);
}
