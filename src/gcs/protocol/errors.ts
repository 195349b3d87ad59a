import { ErrorCode, ShimError } from '../../errdefs/index.js';

/** What a peer got wrong. Stable identifiers for tests and for the guest's choice of HRESULT. */
export type ProtocolViolation =
  | 'frame-too-small' // Size < 16
  | 'frame-too-large' // Size > the decoder's limit
  | 'id-out-of-range' // ID > 2^53 - 1
  | 'invalid-json' // body is not a JSON object
  | 'invalid-field' // a body field has the wrong type
  | 'unexpected-message'; // a type or id the receiver cannot pair

/**
 * A violation of the GCS wire protocol. Framing violations are fatal to the connection: after one, the byte
 * stream cannot be resynchronised. Code Internal, except an oversize frame (ResourceExhausted, as ttrpc).
 */
export class GcsProtocolError extends ShimError {
  override name = 'GcsProtocolError';
  readonly violation: ProtocolViolation;

  constructor(violation: ProtocolViolation, message: string, options?: { cause?: unknown }) {
    super(violation === 'frame-too-large' ? ErrorCode.ResourceExhausted : ErrorCode.Internal, `gcs: ${message}`, options);
    this.violation = violation;
  }
}
