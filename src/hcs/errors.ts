import { HResult, ShimError, errorCodeForHresult, findCause, formatHresult, isHcsCode } from '../errdefs/index.js';
import type { HcsErrorEvent } from './schema/index.js';

/**
 * HcsError: a failed HCS call with its evidence (operation, unsigned HRESULT, system id, the ErrorEvents
 * of the ResultError document). The containerd ErrorCode is derived from the HRESULT, never from text.
 *
 * HCS codes come in two forms that share their low 16 bits (hcs-and-uvm.md §4): computecore's real returns
 * were never observed, so every predicate here accepts both (isHcsCode). Names, the code table and the hex
 * spelling are the project's one HRESULT vocabulary, in src/errdefs.
 */

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
    super(errorCodeForHresult(hr), `hcs::${init.operation}${who}${what} (hresult ${formatHresult(hr)})${detail}`, {
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
  return findCause(err, HcsError);
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
  return hr !== undefined && (isHcsCode(hr, 0x0118) || hr === HResult.ErrTimeout);
}
