/**
 * The project's one HRESULT vocabulary: every HRESULT the shim, the HCS binding, the emulator, the GCS bridge and
 * the guest agent name, one table mapping them to containerd's error codes, and one hex spelling.
 *
 * Values are unsigned (`>>> 0`): JSON and koffi hand HRESULTs over as signed int32, so always compare through
 * `>>> 0` (hcsshim's rpcError.Unwrap documents the sign-extension bug this avoids).
 *
 * HCS codes come in two forms that share their low 16 bits (hcs-and-uvm.md §4): hcsshim checks the 0xC037xxxx
 * "ERROR_VMCOMPUTE_*" values (the Linux GCS answers with those too), Microsoft documents the 0x8037xxxx
 * "HCS_E_*" values. `isHcsCode` and the code table accept both.
 */
import { ErrorCode } from './shim-error.js';

/** Known HRESULTs, named as hcsshim (hcs/errors.go, gcserr) and winerror.h name them. */
export const HResult = {
  S_OK: 0x0,
  // Generic COM codes.
  /** The guest's default for any failure without a specific code (runc errors, unknown resource types…). */
  E_FAIL: 0x80004005,
  /** Unknown or pre-negotiation messages, a second NegotiateProtocol. */
  E_NOTIMPL: 0x80004001,
  E_ABORT: 0x80004004,
  E_UNEXPECTED: 0x8000ffff,
  E_INVALIDARG: 0x80070057,
  E_ACCESSDENIED: 0x80070005,
  // HRESULT_FROM_WIN32 codes.
  ErrFileNotFound: 0x80070002,
  ErrPathNotFound: 0x80070003,
  ErrInvalidHandle: 0x80070006,
  ErrInvalidData: 0x8007000d,
  ErrNotSupported: 0x80070032,
  ErrAlreadyExists: 0x800700b7,
  /** ERROR_NOT_FOUND: also the guest's code for an unknown process id. */
  ErrElementNotFound: 0x80070490,
  ErrCancelled: 0x800704c7,
  ErrTimeout: 0x800705b4,
  // ERROR_VMCOMPUTE_* (0xC037…): hcsshim's names; the Linux GCS answers with these.
  ErrVmcomputeOperationPending: 0xc0370103,
  ErrVmcomputeOperationInvalidState: 0xc0370105,
  ErrVmcomputeUnexpectedExit: 0xc0370106,
  /** A WaitForProcess with a finite timeout timed out (gcserr spells it HvVmcomputeTimeout). */
  ErrVmcomputeTimeout: 0xc0370109,
  ErrVmcomputeUnknownMessage: 0xc037010b,
  /** NegotiateProtocol: no version in [MinimumVersion, MaximumVersion] is supported. */
  ErrVmcomputeUnsupportedProtocolVersion: 0xc037010c,
  /** A body (or a JSON-in-a-string field) is not valid JSON; also a Create with schema < 2.1. */
  ErrVmcomputeInvalidJSON: 0xc037010d,
  ErrComputeSystemDoesNotExist: 0xc037010e,
  ErrVmcomputeSystemAlreadyExists: 0xc037010f,
  ErrVmcomputeAlreadyStopped: 0xc0370110,
  // HCS_E_* (0x8037…): Microsoft's documented names.
  HCS_E_TERMINATED_DURING_START: 0x80370100,
  HCS_E_HYPERV_NOT_INSTALLED: 0x80370102,
  /** The operation is not valid in the current state (HCS_E_INVALID_STATE; the guest's HrVmcomputeInvalidState). */
  ErrInvalidState: 0x80370105,
  HCS_E_UNEXPECTED_EXIT: 0x80370106,
  HCS_E_TERMINATED: 0x80370107,
  HCS_E_CONNECT_FAILED: 0x80370108,
  HCS_E_CONNECTION_TIMEOUT: 0x80370109,
  HCS_E_CONNECTION_CLOSED: 0x8037010a,
  HCS_E_INVALID_JSON: 0x8037010d,
  HCS_E_SYSTEM_NOT_FOUND: 0x8037010e,
  HCS_E_SYSTEM_ALREADY_EXISTS: 0x8037010f,
  HCS_E_SYSTEM_ALREADY_STOPPED: 0x80370110,
  HCS_E_SERVICE_NOT_AVAILABLE: 0x80370114,
  HCS_E_OPERATION_NOT_STARTED: 0x80370115,
  HCS_E_OPERATION_ALREADY_STARTED: 0x80370116,
  HCS_E_OPERATION_PENDING: 0x80370117,
  HCS_E_OPERATION_TIMEOUT: 0x80370118,
  HCS_E_OPERATION_SYSTEM_CALLBACK_ALREADY_SET: 0x80370119,
  HCS_E_ACCESS_DENIED: 0x8037011b,
  HCS_E_SERVICE_DISCONNECT: 0x8037011e,
  ErrProcessAlreadyStopped: 0x8037011f,
} as const;

/** True when `hr` is the HCS code with the given low 16 bits, in either the 0xC037 or the 0x8037 form. */
export function isHcsCode(hr: number, low16: number): boolean {
  const u = hr >>> 0;
  return (u & 0xffff) === low16 && ((u >>> 16) === 0xc037 || (u >>> 16) === 0x8037);
}

/**
 * HRESULT → containerd code, for every layer (first match wins; HCS codes in either form):
 *   …010E system not found, ERROR_NOT_FOUND                  → NotFound
 *   …010F system already exists, ERROR_ALREADY_EXISTS        → AlreadyExists
 *   …0105 invalid state, …0110 already stopped, …010C unsupported protocol version,
 *   E_ACCESSDENIED, …011B access denied                      → FailedPrecondition
 *   E_NOTIMPL, …010B unknown message, ERROR_NOT_SUPPORTED    → NotImplemented
 *   E_INVALIDARG, …010D invalid JSON, ERROR_INVALID_DATA     → InvalidArgument
 *   …0109 timeout, …0118 operation timeout, ERROR_TIMEOUT    → DeadlineExceeded
 *   ERROR_CANCELLED, E_ABORT                                 → Canceled
 *   anything else (E_FAIL most often)                        → Unknown
 */
const CODE_TABLE: ReadonlyArray<readonly [(hr: number) => boolean, ErrorCode]> = [
  [(hr) => isHcsCode(hr, 0x010e) || hr === HResult.ErrElementNotFound, ErrorCode.NotFound],
  [(hr) => isHcsCode(hr, 0x010f) || hr === HResult.ErrAlreadyExists, ErrorCode.AlreadyExists],
  [
    (hr) => isHcsCode(hr, 0x0105) || isHcsCode(hr, 0x0110) || isHcsCode(hr, 0x010c) || isHcsCode(hr, 0x011b)
      || hr === HResult.E_ACCESSDENIED,
    ErrorCode.FailedPrecondition,
  ],
  [(hr) => hr === HResult.E_NOTIMPL || isHcsCode(hr, 0x010b) || hr === HResult.ErrNotSupported, ErrorCode.NotImplemented],
  [
    (hr) => hr === HResult.E_INVALIDARG || isHcsCode(hr, 0x010d) || hr === HResult.ErrInvalidData,
    ErrorCode.InvalidArgument,
  ],
  [(hr) => isHcsCode(hr, 0x0109) || isHcsCode(hr, 0x0118) || hr === HResult.ErrTimeout, ErrorCode.DeadlineExceeded],
  [(hr) => hr === HResult.ErrCancelled || hr === HResult.E_ABORT, ErrorCode.Canceled],
];

/** The containerd code an HRESULT travels as (table above). */
export function errorCodeForHresult(hresult: number): ErrorCode {
  const hr = hresult >>> 0;
  for (const [match, code] of CODE_TABLE) if (match(hr)) return code;
  return ErrorCode.Unknown;
}

/** The one hex spelling used in messages and logs: `0xc037010e`. */
export const formatHresult = (hresult: number): string => `0x${(hresult >>> 0).toString(16).padStart(8, '0')}`;

/** Failure HRESULTs have the severity bit set. */
export const hresultFailed = (hresult: number): boolean => (hresult >>> 0) >= 0x80000000;
