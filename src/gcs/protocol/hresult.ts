/**
 * HRESULTs on the bridge. `Result` is a signed int32 in JSON, so failure codes arrive negative: always
 * compare through `hresultFromWire` (x >>> 0) and send through `hresultToWire` (x | 0). hcsshim's
 * rpcError.Unwrap documents the sign-extension bug this avoids. Names follow gcserr / winerror.
 */

export const S_OK = 0;
/** HrFail: the guest's default for any failure without a specific code (runc errors, unknown resource types...). */
export const E_FAIL = 0x80004005;
/** HrNotImpl: unknown or pre-negotiation messages, a second NegotiateProtocol. */
export const E_NOTIMPL = 0x80004001;
/** HrErrInvalidArg. */
export const E_INVALIDARG = 0x80070057;
export const E_ABORT = 0x80004004;
export const E_UNEXPECTED = 0x8000ffff;

// The guest's named codes (hcsshim internal/bridgeutils/gcserr), as unsigned numbers.
export const HrNotImpl = E_NOTIMPL;
export const HrFail = E_FAIL;
export const HrErrInvalidArg = E_INVALIDARG;
/** Not found: an unknown process id (HRESULT_FROM_WIN32(ERROR_NOT_FOUND)). */
export const HrErrNotFound = 0x80070490;
/** A WaitForProcess with a finite timeout timed out (upstream spells it HvVmcomputeTimeout). */
export const HrVmcomputeTimeout = 0xc0370109;
/** Unknown message type from the host. */
export const HrVmcomputeUnknownMessage = 0xc037010b;
/** NegotiateProtocol: no version in [MinimumVersion, MaximumVersion] is supported. */
export const HrVmcomputeUnsupportedProtocolVersion = 0xc037010c;
/** A message body (or a JSON-in-a-string field) is not valid JSON. */
export const HrVmcomputeInvalidJSON = 0xc037010d;
/** The compute system (container) does not exist. */
export const HrVmcomputeSystemNotFound = 0xc037010e;
/** A compute system with that id already exists. */
export const HrVmcomputeSystemAlreadyExists = 0xc037010f;
/** The compute system is not running. */
export const HrVmcomputeSystemAlreadyStopped = 0xc0370110;
/** The operation is not valid in the current state. */
export const HrVmcomputeInvalidState = 0x80370105;

/** The unsigned value of a wire Result (int32 or already unsigned). Non-numbers are E_FAIL. */
export function hresultFromWire(result: unknown): number {
  return typeof result === 'number' && Number.isFinite(result) ? Math.trunc(result) >>> 0 : E_FAIL;
}

/** The signed int32 the wire carries for an HRESULT. */
export const hresultToWire = (hresult: number): number => hresult | 0;

/** Failure HRESULTs have the severity bit set. */
export const hresultFailed = (hresult: number): boolean => (hresult >>> 0) >= 0x80000000;

/** "0x80004005" */
export const formatHresult = (hresult: number): string => '0x' + (hresult >>> 0).toString(16).padStart(8, '0');
