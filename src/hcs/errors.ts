import { ErrorCode, ShimError } from '../errdefs/index.js';
import type { HcsErrorEvent } from './schema/index.js';

/**
 * HcsError: a failed HCS call with its evidence (operation, unsigned HRESULT, system id, the ErrorEvents
 * of the ResultError document). The containerd ErrorCode is derived from the HRESULT, never from text.
 *
 * HCS codes come in two forms that share their low 16 bits (hcs-and-uvm.md §4): hcsshim checks the
 * 0xC037xxxx "ERROR_VMCOMPUTE_*" values, Microsoft documents the 0x8037xxxx "HCS_E_*" values. computecore's
 * real returns were never observed, so every predicate here accepts both.
 */

/** Known HRESULTs, named as hcsshim / ComputeDefs name them (unsigned). */
export const HResult = {
  S_OK: 0x0,
  ErrVmcomputeOperationPending: 0xc0370103,
  ErrVmcomputeOperationInvalidState: 0xc0370105,
  ErrInvalidState: 0x80370105,
  ErrVmcomputeUnexpectedExit: 0xc0370106,
  ErrVmcomputeUnknownMessage: 0xc037010b,
  ErrVmcomputeInvalidJSON: 0xc037010d,
  ErrComputeSystemDoesNotExist: 0xc037010e,
  ErrVmcomputeAlreadyStopped: 0xc0370110,
  HCS_E_TERMINATED_DURING_START: 0x80370100,
  HCS_E_HYPERV_NOT_INSTALLED: 0x80370102,
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
  ErrElementNotFound: 0x80070490,
  E_ACCESSDENIED: 0x80070005,
  ErrInvalidHandle: 0x80070006,
  ErrInvalidData: 0x8007000d,
  ErrNotSupported: 0x80070032,
  E_INVALIDARG: 0x80070057,
  ERROR_TIMEOUT: 0x800705b4,
  E_NOTIMPL: 0x80004001,
  E_FAIL: 0x80004005,
} as const;

/** True when `hr` is the HCS code with the given low 16 bits, in either the 0xC037 or the 0x8037 form. */
export function isHcsCode(hr: number, low16: number): boolean {
  const u = hr >>> 0;
  return (u & 0xffff) === low16 && ((u >>> 16) === 0xc037 || (u >>> 16) === 0x8037);
}

const CODE_TABLE: ReadonlyArray<readonly [(hr: number) => boolean, ErrorCode]> = [
  [(hr) => isHcsCode(hr, 0x010e) || hr === HResult.ErrElementNotFound, ErrorCode.NotFound],
  [(hr) => hr === HResult.E_ACCESSDENIED || isHcsCode(hr, 0x011b), ErrorCode.FailedPrecondition],
  [(hr) => isHcsCode(hr, 0x0118) || hr === HResult.ERROR_TIMEOUT, ErrorCode.DeadlineExceeded],
  [
    (hr) => isHcsCode(hr, 0x010d) || hr === HResult.E_INVALIDARG || hr === HResult.ErrInvalidData,
    ErrorCode.InvalidArgument,
  ],
  [(hr) => isHcsCode(hr, 0x010f), ErrorCode.AlreadyExists],
];

/** The containerd code an HRESULT travels as. */
export function errorCodeForHResult(hresult: number): ErrorCode {
  const hr = hresult >>> 0;
  for (const [match, code] of CODE_TABLE) if (match(hr)) return code;
  return ErrorCode.Unknown;
}

/** Hex spelling used in messages and logs: `0xc037010e`. */
export const hresultHex = (hr: number): string => `0x${(hr >>> 0).toString(16).padStart(8, '0')}`;

export interface HcsErrorInit {
  /** The HCS function or logical operation, e.g. "HcsStartComputeSystem". */
  readonly operation: string;
  readonly hresult: number;
  readonly systemId?: string;
  readonly events?: HcsErrorEvent[];
  /** ErrorMessage of the result document, or a description of our own. */
  readonly message?: string;
  readonly cause?: unknown;
}

export class HcsError extends ShimError {
  override name = 'HcsError';
  readonly operation: string;
  /** Unsigned (`>>> 0`), so it compares equal to the constants in HResult. */
  readonly hresult: number;
  readonly systemId?: string;
  readonly events: readonly HcsErrorEvent[];

  constructor(init: HcsErrorInit) {
    const hr = init.hresult >>> 0;
    const who = init.systemId === undefined ? '' : ` ${init.systemId}`;
    const what = init.message === undefined || init.message === '' ? '' : `: ${init.message}`;
    const ev = (init.events ?? []).map((e) => e.Message).filter((m): m is string => typeof m === 'string' && m !== '');
    const detail = ev.length > 0 ? ` [${ev.join('; ')}]` : '';
    super(errorCodeForHResult(hr), `hcs::${init.operation}${who}${what} (hresult ${hresultHex(hr)})${detail}`, {
      cause: init.cause,
    });
    this.operation = init.operation;
    this.hresult = hr;
    if (init.systemId !== undefined) this.systemId = init.systemId;
    this.events = init.events ?? [];
  }
}

/** The first HcsError on the cause chain (like Go's errors.As). */
export function asHcsError(err: unknown): HcsError | undefined {
  for (let cur: unknown = err, depth = 0; cur !== undefined && cur !== null && depth < 32; depth++) {
    if (cur instanceof HcsError) return cur;
    cur = cur instanceof Error ? cur.cause : undefined;
  }
  return undefined;
}

/** Accepts an HcsError (anywhere on the cause chain) or a bare HRESULT number. */
function hrOf(errOrHr: unknown): number | undefined {
  if (typeof errOrHr === 'number') return errOrHr >>> 0;
  return asHcsError(errOrHr)?.hresult;
}

/** The compute system does not exist (0xC037010E / 0x8037010E / ERROR_NOT_FOUND). */
export function isNotExist(errOrHr: unknown): boolean {
  const hr = hrOf(errOrHr);
  return hr !== undefined && (isHcsCode(hr, 0x010e) || hr === HResult.ErrElementNotFound);
}

/** The system (or process) was already stopped (0x…0110, 0x…011F, ERROR_NOT_FOUND). */
export function isAlreadyStopped(errOrHr: unknown): boolean {
  const hr = hrOf(errOrHr);
  return hr !== undefined && (isHcsCode(hr, 0x0110) || isHcsCode(hr, 0x011f) || hr === HResult.ErrElementNotFound);
}

/** The request is still in progress (0xC0370103 v1 pending, 0x80370117 operation pending). */
export function isPending(errOrHr: unknown): boolean {
  const hr = hrOf(errOrHr);
  return hr !== undefined && (isHcsCode(hr, 0x0103) || isHcsCode(hr, 0x0117));
}

/** The wait for an operation elapsed (0x…0118, ERROR_TIMEOUT). */
export function isTimeout(errOrHr: unknown): boolean {
  const hr = hrOf(errOrHr);
  return hr !== undefined && (isHcsCode(hr, 0x0118) || hr === HResult.ERROR_TIMEOUT);
}
