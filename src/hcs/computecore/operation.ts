import { handledElsewhere } from '../../async/index.js';
import { ErrorCode, HResult, ShimError } from '../../errdefs/index.js';
import { logTeardown, rootLogger } from '../../log/index.js';
import { HcsError, isTimeout } from '../errors.js';
import type { ComputecoreLibrary, HcsOperationHandle } from './ffi.js';
import { asHresult, callAsync } from './native-call.js';
import { parseFailureDocument, takeResultDocument } from './result-document.js';

/** HcsWaitForOperationResult's "wait forever". */
export const INFINITE = 0xffffffff;

export interface OperationOptions {
  readonly operation: string;
  readonly systemId?: string;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  /** Told about the native wait, which may outlive an aborted call (HcsSystem.close waits for it). */
  readonly track?: (nativeWork: Promise<unknown>) => void;
}

/**
 * hcsshim's runOperation for computecore: HcsCreateOperation → issue(op) → HcsWaitForOperationResult
 * (ms) → LocalFree(result) → HcsCloseOperation, the close always last.
 *
 * - `issue` returns the HRESULT of the HcsXxx call; a failure there still may leave an error document
 *   on the operation, which HcsGetOperationResult fetches.
 * - The wait runs on the threadpool. An abort rejects at once with Canceled, but the operation is only
 *   closed after the native wait has returned: an HCS call is never abandoned with its handles freed
 *   (that crashes computecore, per hcsshim). On HCS_E_OPERATION_TIMEOUT, HcsCancelOperation is tried.
 * - Resolves with the result document (already freed natively), or undefined when there is none.
 */
export async function runOperation(
  lib: ComputecoreLibrary,
  opts: OperationOptions,
  issue: (op: HcsOperationHandle) => Promise<number>,
): Promise<string | undefined> {
  const { signal } = opts;
  if (signal?.aborted) throw canceled(opts, signal.reason);
  const op = lib.fn.HcsCreateOperation(null, null) as HcsOperationHandle | null;
  if (op === null) throw new HcsError({ ...errorBase(opts), hresult: HResult.E_FAIL, message: 'HcsCreateOperation failed' });

  let issued: number;
  try {
    issued = await issue(op);
  } catch (err) {
    lib.fn.HcsCloseOperation(op);
    throw err;
  }
  if (issued < 0) {
    // The call itself was refused; the operation may still carry the error document.
    let doc: string | undefined;
    try {
      const out: unknown[] = [null];
      await callAsync(lib.fn.HcsGetOperationResult, op, out);
      doc = takeResultDocument(lib, out[0]);
    } finally {
      lib.fn.HcsCloseOperation(op);
    }
    throw failure(opts, issued, doc);
  }

  const timeoutMs = Math.min(Math.max(0, Math.trunc(opts.timeoutMs)), INFINITE);
  const settled = (async () => {
    const out: unknown[] = [null];
    try {
      const hr = asHresult(await callAsync(lib.fn.HcsWaitForOperationResult, op, timeoutMs, out));
      const doc = takeResultDocument(lib, out[0]);
      if (isTimeout(hr >>> 0) && lib.fn.HcsCancelOperation !== undefined) {
        await callAsync(lib.fn.HcsCancelOperation, op).catch(logTeardown(rootLogger(), 'HcsCancelOperation after a timed-out wait', errorBase(opts)));
      }
      return { hr, doc };
    } finally {
      lib.fn.HcsCloseOperation(op);
    }
  })();
  opts.track?.(settled);

  const { hr, doc } = signal === undefined ? await settled : await raceAbort(settled, signal, opts, lib, op);
  if (hr < 0) throw failure(opts, hr, doc);
  return doc;
}

/** Like runOperation but without a wait (hcsshim's submitOperation, used by shutdown/terminate). */
export async function submitOperation(
  lib: ComputecoreLibrary,
  opts: Omit<OperationOptions, 'timeoutMs' | 'signal'>,
  issue: (op: HcsOperationHandle) => Promise<number>,
): Promise<void> {
  const op = lib.fn.HcsCreateOperation(null, null) as HcsOperationHandle | null;
  if (op === null) throw new HcsError({ ...errorBase(opts), hresult: HResult.E_FAIL, message: 'HcsCreateOperation failed' });
  let hr: number;
  try {
    hr = await issue(op);
  } finally {
    lib.fn.HcsCloseOperation(op);
  }
  if (hr < 0) throw failure(opts, hr, undefined);
}

function raceAbort<T>(
  settled: Promise<T>,
  signal: AbortSignal,
  opts: OperationOptions,
  lib: ComputecoreLibrary,
  op: HcsOperationHandle,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      // The native wait keeps running; `settled` closes the operation when it returns.
      if (lib.fn.HcsCancelOperation !== undefined) {
        callAsync(lib.fn.HcsCancelOperation, op).catch(logTeardown(rootLogger(), 'HcsCancelOperation of an aborted call', errorBase(opts)));
      }
      handledElsewhere(settled); // the caller gets Canceled now; the wait's own outcome is moot
      reject(canceled(opts, signal.reason));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    settled.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

const errorBase = (opts: { operation: string; systemId?: string }): { operation: string; systemId?: string } =>
  opts.systemId === undefined ? { operation: opts.operation } : { operation: opts.operation, systemId: opts.systemId };

function failure(opts: { operation: string; systemId?: string }, hr: number, doc: string | undefined): HcsError {
  const detail = parseFailureDocument(doc);
  return new HcsError({ ...errorBase(opts), hresult: hr, ...detail });
}

function canceled(opts: { operation: string; systemId?: string }, reason: unknown): ShimError {
  const who = opts.systemId === undefined ? '' : ` ${opts.systemId}`;
  return new ShimError(ErrorCode.Canceled, `hcs::${opts.operation}${who}: canceled`, { cause: reason });
}
