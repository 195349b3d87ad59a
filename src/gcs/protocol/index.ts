/**
 * gcs/protocol: the GCS bridge wire codec, shared by the host bridge (src/gcs) and the guest agent
 * (src/guest). Frame encoder and pure incremental decoder (16-byte little-endian header + JSON body),
 * message-type helpers, every RPC constant and vsock port under its hcsshim name, typed JSON bodies, and the
 * wire form of HRESULTs (their names and code table are src/errdefs's).
 *
 * Layer boundaries: imports only src/errdefs and src/random (random bytes for exact-json's nonce). No sockets, no timers, no logging, nothing of the host side,
 * so the guest agent can import this barrel alone. See ../PROTOCOL.md for the wire format.
 */
export * from './constants.js';
export * from './message-type.js';
export * from './errors.js';
export * from './frame.js';
export * from './frame-decoder.js';
export * from './json-body.js';
export * from './hresult.js';
export type * from './messages.js';
export type * from './schema-version.js';
export * from './documents.js';
export { parseJsonExact, stringifyExact } from './exact-json.js';
