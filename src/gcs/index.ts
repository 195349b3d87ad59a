/**
 * gcs: the host side of the GCS bridge protocol, the guest connection of an LCOW utility VM.
 *
 * Layer boundaries: imported by src/sandbox (the VM's guest connection; src/shim reaches it only through
 * sandbox); never imports src/hcs, src/proto or anything above. The wire codec lives in the ./protocol
 * sub-barrel, which the guest agent (src/guest) shares and src/uvm takes the vsock ports from; nothing else of
 * this module is guest-visible. scripts/check-layers.mjs checks this.
 * May import: async, transport, random, log, errdefs.
 * Wire format: PROTOCOL.md beside this file.
 */
export * from './protocol/index.js';
export { Bridge, DefaultBridgeTimeoutMs, type BridgeOptions, type RpcOptions } from './bridge.js';
export { GcsBridgeClosedError, GcsRpcError } from './errors.js';
export { connectGuest, containerConfig, GuestConnection, type ConnectGuestOptions } from './guest-connection.js';
export { Container, type GcsCallOptions, type ContainerExit } from './container.js';
export { Process, SIGKILL, SIGTERM } from './process.js';
export type { IoListen, StdioStreams } from './stdio.js';
