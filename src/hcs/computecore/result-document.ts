import type { HcsErrorEvent, ResultError } from '../schema/index.js';
import type { ComputecoreLibrary } from './ffi.js';

/**
 * Takes ownership of an `_Out_ PWSTR` HCS allocated: copies it into a JS string and LocalFree's it,
 * exactly once. NULL means "no document".
 */
export function takeResultDocument(lib: ComputecoreLibrary, ptr: unknown): string | undefined {
  if (ptr === null || ptr === undefined || ptr === 0n) return undefined;
  try {
    return lib.decodeString16(ptr);
  } finally {
    lib.fn.LocalFree(ptr);
  }
}

/** Evidence pulled from a failed operation's document, which is a ResultError when it is JSON at all. */
export interface FailureDetail {
  readonly message?: string;
  readonly events?: HcsErrorEvent[];
}

const MAX_RAW_MESSAGE = 512;

export function parseFailureDocument(doc: string | undefined): FailureDetail {
  if (doc === undefined || doc.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(doc);
  } catch {
    return { message: doc.slice(0, MAX_RAW_MESSAGE) };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {};
  const r = parsed as ResultError;
  const events = Array.isArray(r.ErrorEvents)
    ? r.ErrorEvents.filter((e): e is HcsErrorEvent => typeof e === 'object' && e !== null)
    : undefined;
  return {
    ...(typeof r.ErrorMessage === 'string' && r.ErrorMessage !== '' ? { message: r.ErrorMessage } : {}),
    ...(events !== undefined && events.length > 0 ? { events } : {}),
  };
}
