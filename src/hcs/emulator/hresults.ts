/**
 * How the emulator fails: an HcsError with the HRESULT the real service returns for the same mistake
 * (hcs-and-uvm.md §4), plus the few Win32-derived codes HCS passes through for file and argument errors.
 */
import { HResult, HcsError } from '../errors.js';

/** HRESULT_FROM_WIN32 codes HCS returns that src/hcs/errors.ts does not name. */
export const Win32HResult = {
  ERROR_FILE_NOT_FOUND: 0x80070002,
  ERROR_PATH_NOT_FOUND: 0x80070003,
  ERROR_ALREADY_EXISTS: 0x800700b7,
  ERROR_CANCELLED: 0x800704c7,
} as const;

export const EmuHResult = { ...HResult, ...Win32HResult } as const;

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
