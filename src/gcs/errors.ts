/**
 * Host-side GCS errors. Both extend ShimError, so the shim edge maps them like any other error:
 *
 *   GcsRpcError           the guest answered with Result != 0; carries the unsigned HRESULT, the guest's
 *                         ErrorMessage and ErrorRecords, and the RPC that failed.
 *   GcsBridgeClosedError  the bridge is gone (peer EOF, socket error, protocol violation, RPC timeout or
 *                         close()); code Unavailable, like hcsshim's ErrBridgeClosed. `cause` says why.
 *
 * HRESULT → ErrorCode (GcsRpcError.code):
 *   HrErrNotFound 0x80070490, HrVmcomputeSystemNotFound 0xC037010E        → NotFound
 *   HrVmcomputeSystemAlreadyExists 0xC037010F                            → AlreadyExists
 *   HrVmcomputeInvalidState 0x80370105, HrVmcomputeSystemAlreadyStopped  → FailedPrecondition
 *   HrVmcomputeUnsupportedProtocolVersion 0xC037010C                     → FailedPrecondition
 *   E_NOTIMPL 0x80004001, HrVmcomputeUnknownMessage 0xC037010B           → NotImplemented
 *   E_INVALIDARG 0x80070057, HrVmcomputeInvalidJSON 0xC037010D           → InvalidArgument
 *   HrVmcomputeTimeout 0xC0370109                                        → DeadlineExceeded
 *   anything else (E_FAIL 0x80004005 most often)                         → Unknown
 */
import { ErrorCode, ShimError } from '../errdefs/index.js';
import {
  E_INVALIDARG,
  E_NOTIMPL,
  HrErrNotFound,
  HrVmcomputeInvalidJSON,
  HrVmcomputeInvalidState,
  HrVmcomputeSystemAlreadyExists,
  HrVmcomputeSystemAlreadyStopped,
  HrVmcomputeSystemNotFound,
  HrVmcomputeTimeout,
  HrVmcomputeUnknownMessage,
  HrVmcomputeUnsupportedProtocolVersion,
  formatHresult,
  hresultFromWire,
  rpcName,
  type ErrorRecord,
} from './protocol/index.js';

const CODE_BY_HRESULT: ReadonlyMap<number, ErrorCode> = new Map([
  [HrErrNotFound, ErrorCode.NotFound],
  [HrVmcomputeSystemNotFound, ErrorCode.NotFound],
  [HrVmcomputeSystemAlreadyExists, ErrorCode.AlreadyExists],
  [HrVmcomputeInvalidState, ErrorCode.FailedPrecondition],
  [HrVmcomputeSystemAlreadyStopped, ErrorCode.FailedPrecondition],
  [HrVmcomputeUnsupportedProtocolVersion, ErrorCode.FailedPrecondition],
  [E_NOTIMPL, ErrorCode.NotImplemented],
  [HrVmcomputeUnknownMessage, ErrorCode.NotImplemented],
  [E_INVALIDARG, ErrorCode.InvalidArgument],
  [HrVmcomputeInvalidJSON, ErrorCode.InvalidArgument],
  [HrVmcomputeTimeout, ErrorCode.DeadlineExceeded],
]);

/** The ErrorCode a guest HRESULT maps to (table above). */
export function errorCodeForHresult(hresult: number): ErrorCode {
  return CODE_BY_HRESULT.get(hresult >>> 0) ?? ErrorCode.Unknown;
}

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
