/**
 * shim/stdio: a process's stdio between containerd's client endpoints (FIFOs, an append file, or a logging
 * binary) and the guest's per-stream connections.
 *
 * Layer boundaries: part of src/shim. Imports src/errdefs, src/log and src/transport (which decides how a
 * platform opens the client's endpoints: FIFOs on Linux, named pipes on Windows); knows nothing of tasks,
 * the GCS or protobuf. The caller (the Task logic) opens the upstream side with openUpstreamIO when a process is
 * created, relays once the guest's streams exist, awaits `done` (with its own grace timeout) before reporting
 * the exit, and closes the upstream side on delete. open-pipe.ts hands endpoint opening to the transport.
 * Scheme and binary-logger facts: PROTOCOL.md.
 */
export { openUpstreamIO } from './upstream-io.js';
export type { UpstreamIO, UpstreamOptions } from './upstream-io.js';
export type { StdioPaths } from './stdio-paths.js';
export { relayStdio } from './relay.js';
export type { GuestStdio, RelayOptions, StdioRelay } from './relay.js';
export { parseStdioMode, stdioScheme, fifoPath } from './stdio-uri.js';
export type { StdioMode } from './stdio-uri.js';
export { openPipeReader, openPipeWriter } from './open-pipe.js';
export { startBinaryLogger } from './binary-logger.js';
export type { BinaryLogger, BinaryLoggerOptions } from './binary-logger.js';
