/**
 * transport: the one platform seam, i.e. how the shim listens for and dials its peers.
 * Windows: Hyper-V sockets and named pipes. Linux: unix sockets, with hvsockets emulated at
 * `<emulator root>/<runtimeId>/vsock/<port>.sock` (the rule the HCS emulator and the guest share).
 * Also the pure Hyper-V address code (GUID layout, VsockServiceID, SOCKADDR_HV).
 *
 * Layer boundaries: imports only src/errdefs. Used by src/uvm, src/gcs, src/shim and src/hcs/emulator
 * (for the emulated paths). The only module besides the HCS backend factory that looks at process.platform.
 */
export type { Connection, HvSocketAddress, Listener, Transport } from './types.js';
export { createTransport, type PlatformTransport, type TransportOptions } from './create-transport.js';
export { UnixTransport, type UnixTransportOptions } from './unix-transport.js';
export { WindowsTransport, isNamedPipePath } from './windows-transport.js';
export { SocketListener, MAX_QUEUED_CONNECTIONS } from './socket-listener.js';
export { unixSocketPath, MAX_UNIX_PATH_BYTES, SUN_PATH_BYTES } from './unix-path.js';
export {
  HV_GUID_BROADCAST,
  HV_GUID_CHILDREN,
  HV_GUID_LOOPBACK,
  HV_GUID_PARENT,
  HV_GUID_VSOCK_TEMPLATE,
  HV_GUID_WILDCARD,
  HV_GUID_ZERO,
  LINUX_ENTROPY_VSOCK_PORT,
  LINUX_GCS_VSOCK_PORT,
  LINUX_LOG_VSOCK_PORT,
  guidFromBytes,
  guidToBytes,
  isGuid,
  normalizeGuid,
  portFromServiceId,
  vsockServiceId,
} from './hv-guid.js';
export { AF_HYPERV, HV_PROTOCOL_RAW, SOCKADDR_HV_SIZE, decodeSockaddrHv, encodeSockaddrHv } from './sockaddr-hv.js';
export {
  DEFAULT_EMULATOR_ROOT,
  EMULATOR_ROOT_ENV,
  emulatedHvSocketPath,
  emulatedVmDir,
  emulatedVsockPath,
  emulatorRoot,
} from './emulated-paths.js';
