/**
 * Where the Linux HCS emulator keeps each utility VM, and where an emulated hvsocket lives.
 * The one rule shared by the emulator (src/hcs/emulator), the transport and, by contract, the guest:
 *   <root>/<runtimeId>/                 the VM dir (0700)
 *   <root>/<runtimeId>/vsock/<port>.sock the host end of vsock port <port> (decimal)
 * root = env LCOW_EMULATOR_ROOT, else /run/containerd-shim-lcow-v1/vm.
 */
import { join } from 'node:path';
import { invalidArgument } from '../errdefs/index.js';
import { normalizeGuid } from '../guid/index.js';
import { portFromServiceId } from './hv-guid.js';
import type { HvSocketAddress } from './types.js';

export const DEFAULT_EMULATOR_ROOT = '/run/containerd-shim-lcow-v1/vm';
export const EMULATOR_ROOT_ENV = 'LCOW_EMULATOR_ROOT';

/** The emulator root: the explicit argument, else env LCOW_EMULATOR_ROOT, else the default. */
export function emulatorRoot(root?: string): string {
  if (root !== undefined && root !== '') return root;
  const env = process.env[EMULATOR_ROOT_ENV];
  return env !== undefined && env !== '' ? env : DEFAULT_EMULATOR_ROOT;
}

/** `<root>/<runtimeId>`; the runtime id must be a GUID (so it can never climb out of the root). */
export function emulatedVmDir(runtimeId: string, root?: string): string {
  return join(emulatorRoot(root), normalizeGuid(runtimeId));
}

/** `<root>/<runtimeId>/vsock/<port>.sock`. */
export function emulatedVsockPath(runtimeId: string, port: number, root?: string): string {
  if (!Number.isInteger(port) || port < 0 || port > 0xffffffff) {
    throw invalidArgument(`vsock port must be an integer in 0..0xFFFFFFFF, got ${port}`);
  }
  return join(emulatedVmDir(runtimeId, root), 'vsock', `${port}.sock`);
}

/** Maps an hvsocket address to its emulated socket path; the service id must be a vsock-template GUID. */
export function emulatedHvSocketPath(address: HvSocketAddress, root?: string): string {
  const port = portFromServiceId(address.serviceId);
  if (port === undefined) {
    throw invalidArgument(
      `service id ${address.serviceId} is not a vsock service id (template ` +
        `xxxxxxxx-facb-11e6-bd58-64006a7986d3); the emulator maps only vsock ports to unix sockets`,
    );
  }
  return emulatedVsockPath(address.vmId, port, root);
}
