/**
 * How the emulator fails: an HcsError with the HRESULT the real service returns for the same mistake
 * (hcs-and-uvm.md §4), plus the few Win32-derived codes HCS passes through for file and argument errors
 * (all named in src/errdefs's HResult).
 */
import { HcsError } from '../errors.js';

/** Builds the HcsError of an emulated operation; `message` always says what was wrong. */
export function hcsFail(operation: string, hresult: number, message: string, systemId?: string, cause?: unknown): HcsError {
  return new HcsError({
    operation,
    hresult,
    message: `HCS emulator: ${message}`,
    ...(systemId === undefined ? {} : { systemId }),
    ...(cause === undefined ? {} : { cause }),
  });
}
