import { ErrorCode, ShimError } from '../errdefs/index.js';

/**
 * Decodes a request payload at the shim edge. A payload that will not decode fails the call with
 * Internal (13) `ttrpc: error unmarshalling payload: …` (what Go ttrpc answers); the connection lives on.
 *
 *   const req = unmarshalPayload(payload, (b) => task.CreateTaskRequest.decode(b));
 */
export function unmarshalPayload<T>(payload: Uint8Array, decode: (bytes: Uint8Array) => T): T {
  try {
    return decode(payload);
  } catch (err) {
    const text = err instanceof Error ? err.message : String(err);
    throw new ShimError(ErrorCode.Internal, `ttrpc: error unmarshalling payload: ${text}`, { cause: err });
  }
}
