/**
 * HRESULTs on the bridge. `Result` is a signed int32 in JSON, so failure codes arrive negative: always
 * compare through `hresultFromWire` (x >>> 0) and send through `hresultToWire` (x | 0). hcsshim's
 * rpcError.Unwrap documents the sign-extension bug this avoids. The names and the code table are the
 * project's one HRESULT vocabulary, in src/errdefs (hresult.ts).
 */
import { HResult } from '../../errdefs/index.js';

/** The unsigned value of a wire Result (int32 or already unsigned). Non-numbers are E_FAIL. */
export function hresultFromWire(result: unknown): number {
  return typeof result === 'number' && Number.isFinite(result) ? Math.trunc(result) >>> 0 : HResult.E_FAIL;
}

/** The signed int32 the wire carries for an HRESULT. */
export const hresultToWire = (hresult: number): number => hresult | 0;
