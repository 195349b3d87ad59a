/**
 * Host-side GCS errors. Both extend ShimError, so the shim edge maps them like any other error:
 *
 *   GcsRpcError           the guest answered with Result != 0; carries the unsigned HRESULT, the guest's
 *                         ErrorMessage and ErrorRecords, and the RPC that failed.
 *   GcsBridgeClosedError  the bridge is gone (peer EOF, socket error, protocol violation, RPC timeout or
 *                         close()); code Unavailable, like hcsshim's ErrBridgeClosed. `cause` says why.
 *
 * GcsRpcError.code comes from the project's one HRESULT → ErrorCode table (errorCodeForHresult, src/errdefs).
 */
import { ErrorCode, ShimError, errorCodeForHresult, formatHresult } from '../errdefs/index.js';
import { hresultFromWire, rpcName, type ErrorRecord } from './protocol/index.js';

/** A failed guest RPC (Result != 0). */
export class GcsRpcError extends ShimError {
  override name = 'GcsRpcError';
  /** The RPCProc that failed (RPCCreate, ...). */
  readonly proc: number;
  /** The unsigned HRESULT (Result >>> 0). */
  readonly result: number;
  /** The guest's ErrorMessage ('' when absent). */
  readonly errorMessage: string;
  readonly errorRecords: readonly ErrorRecord[];

  constructor(proc: number, result: number, errorMessage: string, errorRecords: readonly ErrorRecord[] = []) {
    const hr = hresultFromWire(result);
    super(
      errorCodeForHresult(hr),
      `gcs: guest ${rpcName(proc)} failed: ${errorMessage === '' ? 'no message' : errorMessage} (${formatHresult(hr)})`,
    );
    this.proc = proc;
    this.result = hr;
    this.errorMessage = errorMessage;
    this.errorRecords = errorRecords;
  }
}

/** The bridge to the guest is closed; every pending and later call fails with this (code Unavailable). */
export class GcsBridgeClosedError extends ShimError {
  override name = 'GcsBridgeClosedError';

  constructor(cause?: unknown) {
    const why = cause === undefined ? '' : `: ${cause instanceof Error ? cause.message : String(cause)}`;
    super(ErrorCode.Unavailable, `gcs: bridge closed${why}`, cause === undefined ? undefined : { cause });
  }
}
