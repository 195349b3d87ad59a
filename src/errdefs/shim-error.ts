/**
 * The one error vocabulary of the shim: containerd's errdefs codes plus an ES2022 cause chain.
 * Every layer throws ShimError (or a subclass carrying the foreign system's evidence, e.g. HcsError);
 * the ttrpc edge maps it to a google.rpc.Status in exactly one function (src/ttrpc status mapping).
 */

/** containerd errdefs, with the gRPC code each one travels as (errdefs/grpc.go). */
export enum ErrorCode {
  Unknown = 'unknown',
  InvalidArgument = 'invalid argument',
  NotFound = 'not found',
  AlreadyExists = 'already exists',
  FailedPrecondition = 'failed precondition',
  Unavailable = 'unavailable',
  NotImplemented = 'not implemented',
  Canceled = 'canceled',
  DeadlineExceeded = 'deadline exceeded',
  ResourceExhausted = 'resource exhausted',
  Internal = 'internal',
}

export class ShimError extends Error {
  override name = 'ShimError';
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    Object.setPrototypeOf(this, new.target.prototype);
    this.code = code;
  }

  /** Wraps anything thrown into a ShimError, keeping an existing ShimError as it is. */
  static from(reason: unknown, code: ErrorCode = ErrorCode.Unknown, context?: string): ShimError {
    if (reason instanceof ShimError && context === undefined) return reason;
    const inner = reason instanceof ShimError ? reason.code : codeOfNodeError(reason) ?? code;
    const text = reason instanceof Error ? reason.message : String(reason);
    return new ShimError(inner, context === undefined ? text : `${context}: ${text}`, { cause: reason });
  }
}

/** The error and its causes, outermost first (`Error.cause`), at most `maxDepth` of them (cycles end there). */
export function* causeChain(err: unknown, maxDepth = 32): Generator<unknown> {
  for (let cur: unknown = err, depth = 0; cur !== undefined && cur !== null && depth < maxDepth; depth++) {
    yield cur;
    cur = cur instanceof Error ? cur.cause : undefined;
  }
}

/** The first error of class `type` on the cause chain (like Go's errors.As). */
export function findCause<T extends Error>(err: unknown, type: abstract new (...args: never[]) => T): T | undefined {
  for (const cur of causeChain(err)) if (cur instanceof type) return cur;
  return undefined;
}

/** Walks the cause chain (like Go's errors.Is) looking for a ShimError with the given code. */
export function isErrorCode(err: unknown, code: ErrorCode): boolean {
  for (const cur of causeChain(err)) if (cur instanceof ShimError && cur.code === code) return true;
  return false;
}

/** The first ErrorCode found on the cause chain, or Unknown. */
export function errorCodeOf(err: unknown): ErrorCode {
  for (const cur of causeChain(err)) {
    if (cur instanceof ShimError) return cur.code;
    const node = codeOfNodeError(cur);
    if (node !== undefined) return node;
  }
  return ErrorCode.Unknown;
}

const NODE_ERRNO: Readonly<Record<string, ErrorCode>> = {
  ENOENT: ErrorCode.NotFound,
  EEXIST: ErrorCode.AlreadyExists,
  EINVAL: ErrorCode.InvalidArgument,
  EACCES: ErrorCode.FailedPrecondition,
  EPERM: ErrorCode.FailedPrecondition,
  ECONNRESET: ErrorCode.Unavailable,
  ECONNREFUSED: ErrorCode.Unavailable,
  EPIPE: ErrorCode.Unavailable,
  ETIMEDOUT: ErrorCode.DeadlineExceeded,
  ABORT_ERR: ErrorCode.Canceled,
};

/** Maps a Node system error's `code` (errno string) to an ErrorCode; undefined when it is not one. */
export function codeOfNodeError(err: unknown): ErrorCode | undefined {
  if (typeof err !== 'object' || err === null || err instanceof ShimError) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? NODE_ERRNO[code] : undefined;
}

export const notFound = (msg: string, cause?: unknown): ShimError => new ShimError(ErrorCode.NotFound, msg, { cause });
export const invalidArgument = (msg: string, cause?: unknown): ShimError =>
  new ShimError(ErrorCode.InvalidArgument, msg, { cause });
export const failedPrecondition = (msg: string, cause?: unknown): ShimError =>
  new ShimError(ErrorCode.FailedPrecondition, msg, { cause });
export const notImplemented = (msg: string): ShimError => new ShimError(ErrorCode.NotImplemented, msg);
export const alreadyExists = (msg: string): ShimError => new ShimError(ErrorCode.AlreadyExists, msg);
export const unavailable = (msg: string, cause?: unknown): ShimError =>
  new ShimError(ErrorCode.Unavailable, msg, { cause });

/** The errno string (`ENOENT`, …) of a Node system error, or undefined. */
export function errnoOf(err: unknown): string | undefined {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

/**
 * A rejection handler that ignores exactly the errno codes given (`rm(p).catch(ignoreErrno('ENOENT'))`: what
 * was to be removed is already gone) and rethrows anything else. The caller says, beside it, why each code is
 * an expected outcome rather than a failure.
 */
export function ignoreErrno(...codes: string[]): (err: unknown) => undefined {
  return (err) => {
    const code = errnoOf(err);
    if (code !== undefined && codes.includes(code)) return undefined;
    throw err;
  };
}

/** For a probe of a path: ignores "it is not there" (ENOENT, or ENOTDIR: a component is not a directory). */
export const ignoreAbsent = ignoreErrno('ENOENT', 'ENOTDIR');

/**
 * The synchronous form of `.catch(ignore)`: `fn()`, or what `ignore` makes of its error (undefined for the
 * errnos it expects; anything else it rethrows). `trySync(() => readdirSync(dir), ignoreAbsent) ?? []`.
 */
export function trySync<T>(fn: () => T, ignore: (err: unknown) => undefined): T | undefined {
  try {
    return fn();
  } catch (err) {
    return ignore(err);
  }
}
