/**
 * transport: the one platform seam, i.e. how the shim listens for and dials its peers, serves its own
 * ttrpc endpoint, and opens containerd's stdio endpoints.
 * Windows: Hyper-V sockets through Winsock (koffi `.async`, winsock-ffi.ts), named pipes, stdout/stderr
 * pipe clients that redial with backoff, and the re-exec handshake for `start`.
 * Linux: unix sockets, hvsockets emulated at `<emulator root>/<runtimeId>/vsock/<port>.sock` (the rule the
 * HCS emulator and the guest share), FIFOs, and the listening socket passed to the daemon as fd 3.
 * Also the pure Hyper-V address code (GUID layout, VsockServiceID, SOCKADDR_HV) and the shim addresses.
 *
 * Layer boundaries: koffi only in winsock-ffi.ts and windows-process-ffi.ts, loaded lazily on Windows. Imported
 * by src/uvm, src/gcs, src/sandbox, src/shim and src/hcs (the emulator, for the emulated paths). The only
 * module besides the HCS backend factory and src/random that looks at process.platform (create-transport.ts).
 * May import: async, guid, log, errdefs.
 */
export type {
  Connection, HvSocketAddress, Listener, PlatformTransport, ProcessIdentity, ServeMode, StdioWriterOptions, Transport,
} from './types.js';
export { createTransport, type TransportOptions } from './create-transport.js';
export { UnixTransport, type UnixTransportOptions } from './unix-transport.js';
export { WindowsTransport, isNamedPipePath, type WindowsTransportOptions } from './windows-transport.js';
export { WinsockError, WsaError, asWinsockError, errorCodeForWsa } from './winsock-error.js';
/** A koffi-bound export (sync call plus `.async`): the one definition, also used by src/hcs's computecore binding. */
export type { NativeFn } from './winsock-ffi.js';
export { RedialWriter, type RedialWriterOptions } from './redial-writer.js';
export { DEFAULT_BACKOFF, backoffDelays, ioRetryBudgetMs, type BackoffOptions } from './backoff.js';
export {
  NAMED_PIPE_SHIM_PREFIX,
  binaryLoggerPipe,
  namedPipeShimAddress,
  namedPipeShimLogAddress,
  shimSocketDir,
  unixShimSocketPath,
} from './shim-address.js';
export { openFifoReader, openFifoWriter } from './fifo-stdio.js';
export { linuxProcessIdentity, parseProcessIdentity, sameProcess } from './process-identity.js';
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
