/**
 * WinsockError: a ShimError carrying the Winsock evidence, i.e. which call failed and its WSA error code
 * (WSAGetLastError). The containerd code comes from the number, never from message text.
 */
import { ErrorCode, ShimError, findCause } from '../errdefs/index.js';

/** The WSA codes the transport distinguishes (winerror.h). */
export const WsaError = {
  WSAEINTR: 10004,
  WSAEACCES: 10013,
  WSAEFAULT: 10014,
  WSAEINVAL: 10022,
  WSAEMFILE: 10024,
  WSAENOTSOCK: 10038,
  WSAEPROTONOSUPPORT: 10043,
  WSAESOCKTNOSUPPORT: 10044,
  WSAEAFNOSUPPORT: 10047,
  WSAEADDRINUSE: 10048,
  WSAEADDRNOTAVAIL: 10049,
  WSAENETDOWN: 10050,
  WSAECONNABORTED: 10053,
  WSAECONNRESET: 10054,
  WSAENOBUFS: 10055,
  WSAENOTCONN: 10057,
  WSAESHUTDOWN: 10058,
  WSAETIMEDOUT: 10060,
  WSAECONNREFUSED: 10061,
  WSANOTINITIALISED: 10093,
  /** ERROR_OPERATION_ABORTED: an overlapped operation cancelled by closing its socket. */
  OPERATION_ABORTED: 995,
} as const;

const CODES: Readonly<Record<number, ErrorCode>> = {
  [WsaError.WSAEINTR]: ErrorCode.Unavailable,
  [WsaError.OPERATION_ABORTED]: ErrorCode.Unavailable,
  [WsaError.WSAENOTSOCK]: ErrorCode.Unavailable,
  [WsaError.WSAECONNABORTED]: ErrorCode.Unavailable,
  [WsaError.WSAECONNRESET]: ErrorCode.Unavailable,
  [WsaError.WSAENOTCONN]: ErrorCode.Unavailable,
  [WsaError.WSAESHUTDOWN]: ErrorCode.Unavailable,
  [WsaError.WSAENETDOWN]: ErrorCode.Unavailable,
  [WsaError.WSAECONNREFUSED]: ErrorCode.Unavailable,
  // Binding an hvsocket needs Administrator or SYSTEM (the VM's DefaultBindSecurityDescriptor).
  [WsaError.WSAEACCES]: ErrorCode.FailedPrecondition,
  // No Hyper-V socket provider on this host (Hyper-V not enabled, or too old a Windows).
  [WsaError.WSAEAFNOSUPPORT]: ErrorCode.FailedPrecondition,
  [WsaError.WSAEPROTONOSUPPORT]: ErrorCode.FailedPrecondition,
  [WsaError.WSAESOCKTNOSUPPORT]: ErrorCode.FailedPrecondition,
  [WsaError.WSANOTINITIALISED]: ErrorCode.FailedPrecondition,
  [WsaError.WSAEADDRINUSE]: ErrorCode.AlreadyExists,
  [WsaError.WSAEADDRNOTAVAIL]: ErrorCode.NotFound,
  [WsaError.WSAEINVAL]: ErrorCode.InvalidArgument,
  [WsaError.WSAEFAULT]: ErrorCode.InvalidArgument,
  [WsaError.WSAEMFILE]: ErrorCode.ResourceExhausted,
  [WsaError.WSAENOBUFS]: ErrorCode.ResourceExhausted,
  [WsaError.WSAETIMEDOUT]: ErrorCode.DeadlineExceeded,
};

/** The containerd code a WSA error maps to (Unknown when the transport has no opinion). */
export function errorCodeForWsa(wsaCode: number): ErrorCode {
  return CODES[wsaCode] ?? ErrorCode.Unknown;
}

export class WinsockError extends ShimError {
  override name = 'WinsockError';
  /** The Winsock call that failed, e.g. `bind`. */
  readonly call: string;
  /** WSAGetLastError() right after the call (e.g. 10048 WSAEADDRINUSE). */
  readonly wsaCode: number;

  constructor(call: string, wsaCode: number, what: string, options?: { code?: ErrorCode; cause?: unknown }) {
    super(options?.code ?? errorCodeForWsa(wsaCode), `${call} ${what}: winsock error ${wsaCode}`, { cause: options?.cause });
    this.call = call;
    this.wsaCode = wsaCode;
  }
}

/** The first WinsockError on the cause chain (like Go's errors.As). */
export function asWinsockError(err: unknown): WinsockError | undefined {
  return findCause(err, WinsockError);
}
