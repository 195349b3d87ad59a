/**
 * ttrpc: containerd's small RPC protocol (frame codec, server, client), spoken with containerd 1.6
 * (ttrpc v1.1.1) and 1.7+/2.x (ttrpc ≥ 1.2). Unary calls only. Wire rules: PROTOCOL.md.
 *
 * Layer boundaries: below the shim, above the leaves (proto: the envelope messages).
 * It knows nothing of the Task API: handlers take and return serialized payloads, and the shim edge
 * decodes them (unmarshalPayload). Handler errors become a google.rpc.Status in one place (toStatus).
 * The client dials with the caller's Dialer (the shim passes its transport's dial): ttrpc knows no platform.
 * May import: async, proto, log, errdefs.
 */
export * from './frame.js';
export * from './frame-decoder.js';
export * from './frame-encoder.js';
export * from './errors.js';
export * from './status.js';
export * from './metadata.js';
export * from './payload.js';
export type * from './rpc-context.js';
export * from './server.js';
export { FLOW_LIMITS, type ConnectionFlow } from './server-connection.js';
export * from './client.js';
export * from './listen-unix.js';
