/**
 * The GUIDs Hyper-V sockets use (well-known VM ids, the vsock service template) and the AF_VSOCK port ↔
 * service id mapping (go-winio's VsockServiceID). The GUID text and byte forms are src/guid's.
 * Pure functions: no sockets, no platform checks.
 */
import { invalidArgument } from '../errdefs/index.js';
import { ZERO_GUID, normalizeGuid } from '../guid/index.js';

/** The vsock service template: the service id of vsock port P is this GUID with Data1 = P. */
export const HV_GUID_VSOCK_TEMPLATE = '00000000-facb-11e6-bd58-64006a7986d3';
export const HV_GUID_ZERO = ZERO_GUID;
export const HV_GUID_WILDCARD = HV_GUID_ZERO;
export const HV_GUID_BROADCAST = 'ffffffff-ffff-ffff-ffff-ffffffffffff';
export const HV_GUID_CHILDREN = '90db8b89-0d35-4f79-8ce9-49ea0ac8b7cd';
export const HV_GUID_LOOPBACK = 'e0e16197-dd56-4a10-9195-5ee7a155a838';
export const HV_GUID_PARENT = 'a42e7cda-d03f-480c-9cc2-a4de20abb878';

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
