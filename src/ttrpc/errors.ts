import { ErrorCode, ShimError, errorCodeFromGrpc } from '../errdefs/index.js';
import type { GrpcCode } from '../errdefs/index.js';
import { MAX_MESSAGE_LENGTH } from './frame.js';

/**
 * A frame whose data is longer than the 4 MiB limit (received or about to be sent).
 * Travels as ResourceExhausted (8); the message text is the one Go ttrpc puts on the wire.
 */
export class OversizedMessageError extends ShimError {
  override name = 'OversizedMessageError';

  constructor(
    readonly rejectedLength: number,
    readonly maximumLength: number = MAX_MESSAGE_LENGTH,
  ) {
    super(ErrorCode.ResourceExhausted, `message length ${rejectedLength} exceed maximum message size of ${maximumLength}`);
  }
}

/**
 * A call the peer answered with a non-OK google.rpc.Status. Keeps the exact gRPC code (`grpcCode`) and
 * the peer's message; `code` is the containerd errdefs equivalent (errdefs.FromGRPC).
 */
export class TtrpcStatusError extends ShimError {
  override name = 'TtrpcStatusError';

  constructor(
    readonly grpcCode: GrpcCode | number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(errorCodeFromGrpc(grpcCode), message, options);
  }
}

/** The connection is gone (closed locally, by the peer, or broken): every call on it fails with this. */
export class TtrpcClosedError extends ShimError {
  override name = 'TtrpcClosedError';

  constructor(cause?: unknown) {
    super(ErrorCode.Unavailable, 'ttrpc: closed', { cause });
  }
}
