/**
 * Errors the guest answers with. Every failure of a request becomes an error response carrying an HRESULT:
 * a GuestError names its own (E_INVALIDARG for bad input, ErrElementNotFound for an unknown process, ...);
 * anything else is E_FAIL, the real GCS's default for errors without a specific code (runc failures...).
 * Names and the HRESULT → ErrorCode table are the project's one HRESULT vocabulary (src/errdefs).
 */
import { HResult, ShimError, causeChain, errorCodeForHresult } from '../errdefs/index.js';
import { GcsProtocolError } from '../gcs/protocol/index.js';

/**
 * A request failure with the HRESULT the host will see (unsigned). `stackless` errors are the real GCS's
 * bare HRESULT errors (no Go stack): their ErrorRecord has no StackTrace/FunctionName, FileName "" and Line
 * 4294967295; every other error carries its stack (bridge-server.ts errorResponse).
 */
export class GuestError extends ShimError {
  override name = 'GuestError';
  readonly hresult: number;
  readonly stackless: boolean;

  constructor(hresult: number, message: string, options?: { cause?: unknown; stackless?: boolean }) {
    super(errorCodeForHresult(hresult), message, options);
    this.hresult = hresult >>> 0;
    this.stackless = options?.stackless === true;
  }
}

/** The real GCS's gcserr.NewHresultError: message "HRESULT: 0x<hex>", no stack. */
export const bareHresult = (hresult: number): GuestError =>
  new GuestError(hresult, `HRESULT: 0x${(hresult >>> 0).toString(16)}`, { stackless: true });

export const invalidArg = (msg: string, cause?: unknown): GuestError => new GuestError(HResult.E_INVALIDARG, msg, { cause });
export const failed = (msg: string, cause?: unknown): GuestError => new GuestError(HResult.E_FAIL, msg, { cause });
/** E_NOTIMPL answers carry no stack in the real GCS either. */
export const notImpl = (msg: string): GuestError => new GuestError(HResult.E_NOTIMPL, msg, { stackless: true });
/** Unknown process / container: bare HRESULTs, as the real GCS answers them (the text says nothing more). */
export const processNotFound = (_pid: number): GuestError => bareHresult(HResult.ErrElementNotFound);
export const containerNotFound = (_id: string): GuestError => bareHresult(HResult.ErrComputeSystemDoesNotExist);

/**
 * The ErrorRecord fields of an error's stack, as the real GCS fills them from a Go stack: the whole trace,
 * and the file, line and function of the frame where the error was made. Empty when there is no stack.
 */
export function stackFields(err: unknown): { StackTrace?: string; FileName: string; Line: number; FunctionName?: string } {
  const none = { FileName: '', Line: 4294967295 };
  if (!(err instanceof Error) || (err instanceof GuestError && err.stackless) || typeof err.stack !== 'string') return none;
  const frames = err.stack.split('\n').filter((l) => /^\s+at /.test(l));
  const top = frames[0];
  if (top === undefined) return none;
  const m = /^\s+at (?:async )?(?:(.+?) \()?(?:file:\/\/)?(.+?):(\d+):\d+\)?$/.exec(top);
  if (!m) return { StackTrace: frames.map((l) => l.trim()).join('\n'), ...none };
  return {
    StackTrace: frames.map((l) => l.trim()).join('\n'),
    FileName: m[2]!,
    Line: Number(m[3]),
    ...(m[1] ? { FunctionName: m[1] } : {}),
  };
}

/** The HRESULT for any thrown value. */
export function hresultOf(err: unknown): number {
  if (err instanceof GuestError) return err.hresult;
  if (err instanceof GcsProtocolError && err.violation === 'invalid-json') return HResult.ErrVmcomputeInvalidJSON;
  if (err instanceof GcsProtocolError && err.violation === 'invalid-field') return HResult.E_INVALIDARG;
  return HResult.E_FAIL;
}

/** Error text for a response: the message plus its causes, like Go's wrapped error strings. */
export function errorText(err: unknown): string {
  return [...causeChain(err, 5)].map((cur) => (cur instanceof Error ? cur.message : String(cur))).join(': ');
}
