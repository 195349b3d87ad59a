/**
 * VsockServiceID(port): the hvsock service id a Linux guest's vsock port maps to, i.e. the template
 * `00000000-facb-11e6-bd58-64006a7986d3` with its first field set to the port (gcs-bridge-protocol.md §7).
 */
const TEMPLATE_TAIL = '-facb-11e6-bd58-64006a7986d3';

export function vsockServiceId(port: number): string {
  if (!Number.isInteger(port) || port < 0 || port > 0xffffffff) throw new RangeError(`bad vsock port ${port}`);
  return port.toString(16).padStart(8, '0') + TEMPLATE_TAIL;
}
