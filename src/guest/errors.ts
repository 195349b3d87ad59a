/**
 * Errors the guest answers with. Every failure of a request becomes an error response carrying an HRESULT:
 * a GuestError names its own (E_INVALIDARG for bad input, ErrElementNotFound for an unknown process, ...);
 * anything else is E_FAIL, the real GCS's default for errors without a specific code (runc failures...).
 * Names and the HRESULT → ErrorCode table are the project's one HRESULT vocabulary (src/errdefs).
 */
import { HResult, ShimError, errorCodeForHresult } from '../errdefs/index.js';
import { GcsProtocolError } from '../gcs/protocol/index.js';

/** A request failure with the HRESULT the host will see (unsigned). */
export class GuestError extends ShimError {
  override name = 'GuestError';
  readonly hresult: number;

  constructor(hresult: number, message: string, options?: { cause?: unknown }) {
    super(errorCodeForHresult(hresult), message, options);
    this.hresult = hresult >>> 0;
  }
}

export const invalidArg = (msg: string, cause?: unknown): GuestError => new GuestError(HResult.E_INVALIDARG, msg, { cause });
export const failed = (msg: string, cause?: unknown): GuestError => new GuestError(HResult.E_FAIL, msg, { cause });
export const notImpl = (msg: string): GuestError => new GuestError(HResult.E_NOTIMPL, msg);
export const processNotFound = (pid: number): GuestError => new GuestError(HResult.ErrElementNotFound, `process ${pid} not found`);
export const containerNotFound = (id: string): GuestError =>
  new GuestError(HResult.ErrComputeSystemDoesNotExist, `container ${JSON.stringify(id)} not found`);

/** The HRESULT for any thrown value. */
export function hresultOf(err: unknown): number {
  if (err instanceof GuestError) return err.hresult;
  if (err instanceof GcsProtocolError && err.violation === 'invalid-json') return HResult.ErrVmcomputeInvalidJSON;
  if (err instanceof GcsProtocolError && err.violation === 'invalid-field') return HResult.E_INVALIDARG;
  return HResult.E_FAIL;
}

/** Error text for a response: the message plus its causes, like Go's wrapped error strings. */
export function errorText(err: unknown): string {
  const parts: string[] = [];
  let cur: unknown = err;
  for (let depth = 0; cur !== undefined && cur !== null && depth < 5; depth++) {
    parts.push(cur instanceof Error ? cur.message : String(cur));
    cur = cur instanceof Error ? cur.cause : undefined;
  }
  return parts.join(': ');
}
