/**
 * SOCKADDR_HV, the Windows Hyper-V socket address (hvsocket.h):
 *   offset 0  u16 Family = AF_HYPERV (34), little-endian
 *   offset 2  u16 Reserved = 0
 *   offset 4  GUID VmId      (16 bytes, mixed-endian, see hv-guid.ts)
 *   offset 20 GUID ServiceId (16 bytes)
 *   size 36
 * Pure encoding; the Windows transport hands these bytes to bind/connect.
 */
import { invalidArgument } from '../errdefs/index.js';
import { guidFromBytes, guidToBytes } from '../guid/index.js';
import type { HvSocketAddress } from './types.js';

export const AF_HYPERV = 34;
export const HV_PROTOCOL_RAW = 1;
export const SOCKADDR_HV_SIZE = 36;

export function encodeSockaddrHv(address: HvSocketAddress): Buffer {
  const out = Buffer.alloc(SOCKADDR_HV_SIZE);
  out.writeUInt16LE(AF_HYPERV, 0);
  out.writeUInt16LE(0, 2);
  guidToBytes(address.vmId).copy(out, 4);
  guidToBytes(address.serviceId).copy(out, 20);
  return out;
}

export function decodeSockaddrHv(bytes: Uint8Array): HvSocketAddress {
  if (bytes.length < SOCKADDR_HV_SIZE) {
    throw invalidArgument(`SOCKADDR_HV is ${SOCKADDR_HV_SIZE} bytes, got ${bytes.length}`);
  }
  const family = Buffer.from(bytes.buffer, bytes.byteOffset, 2).readUInt16LE(0);
  if (family !== AF_HYPERV) throw invalidArgument(`SOCKADDR_HV family is ${family}, want AF_HYPERV (${AF_HYPERV})`);
  return { vmId: guidFromBytes(bytes, 4), serviceId: guidFromBytes(bytes, 20) };
}
