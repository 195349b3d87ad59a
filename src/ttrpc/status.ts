import { GrpcCode, grpcCodeOf } from '../errdefs/index.js';
import type { google } from '../proto/index.js';
import { TtrpcStatusError } from './errors.js';

/** google.rpc.Status as we put it on the wire (details are never sent). */
export interface RpcStatus {
  readonly code: number;
  readonly message: string;
}

/**
 * THE mapping from a handler's error to the google.rpc.Status a peer receives (containerd's
 * errgrpc.ToGRPC): a TtrpcStatusError keeps the code it arrived with (a relayed status stays exact),
 * everything else travels as grpcCodeOf(err) (ShimError code, Node errno, else Unknown).
 * The message is the error's own message.
 */
export function toStatus(err: unknown): RpcStatus {
  const code = err instanceof TtrpcStatusError ? err.grpcCode : grpcCodeOf(err);
  const message = err instanceof Error ? err.message : String(err);
  return { code: code === GrpcCode.OK ? GrpcCode.Unknown : code, message };
}

/** A status received from a peer as an error, or undefined when it means success (absent or code 0). */
export function fromStatus(status: google.rpc.Status.$Properties | null | undefined): TtrpcStatusError | undefined {
  const code = status?.code ?? GrpcCode.OK;
  if (code === GrpcCode.OK) return undefined;
  return new TtrpcStatusError(code, status?.message ?? '');
}
