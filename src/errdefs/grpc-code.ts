import { ErrorCode, errorCodeOf } from './shim-error.js';

/** gRPC status codes (google.golang.org/grpc/codes) as ttrpc carries them. */
export enum GrpcCode {
  OK = 0,
  Canceled = 1,
  Unknown = 2,
  InvalidArgument = 3,
  DeadlineExceeded = 4,
  NotFound = 5,
  AlreadyExists = 6,
  PermissionDenied = 7,
  ResourceExhausted = 8,
  FailedPrecondition = 9,
  Aborted = 10,
  OutOfRange = 11,
  Unimplemented = 12,
  Internal = 13,
  Unavailable = 14,
  DataLoss = 15,
  Unauthenticated = 16,
}

const TO_GRPC: Readonly<Record<ErrorCode, GrpcCode>> = {
  [ErrorCode.Unknown]: GrpcCode.Unknown,
  [ErrorCode.InvalidArgument]: GrpcCode.InvalidArgument,
  [ErrorCode.NotFound]: GrpcCode.NotFound,
  [ErrorCode.AlreadyExists]: GrpcCode.AlreadyExists,
  [ErrorCode.FailedPrecondition]: GrpcCode.FailedPrecondition,
  [ErrorCode.Unavailable]: GrpcCode.Unavailable,
  [ErrorCode.NotImplemented]: GrpcCode.Unimplemented,
  [ErrorCode.Canceled]: GrpcCode.Canceled,
  [ErrorCode.DeadlineExceeded]: GrpcCode.DeadlineExceeded,
  [ErrorCode.ResourceExhausted]: GrpcCode.ResourceExhausted,
  [ErrorCode.Internal]: GrpcCode.Internal,
};

const FROM_GRPC: ReadonlyMap<number, ErrorCode> = new Map([
  [GrpcCode.Canceled, ErrorCode.Canceled],
  [GrpcCode.InvalidArgument, ErrorCode.InvalidArgument],
  [GrpcCode.DeadlineExceeded, ErrorCode.DeadlineExceeded],
  [GrpcCode.NotFound, ErrorCode.NotFound],
  [GrpcCode.AlreadyExists, ErrorCode.AlreadyExists],
  [GrpcCode.ResourceExhausted, ErrorCode.ResourceExhausted],
  [GrpcCode.FailedPrecondition, ErrorCode.FailedPrecondition],
  [GrpcCode.Unimplemented, ErrorCode.NotImplemented],
  [GrpcCode.Internal, ErrorCode.Internal],
  [GrpcCode.Unavailable, ErrorCode.Unavailable],
]);

/** The gRPC code an error travels as (containerd's errgrpc.ToGRPC). */
export function grpcCodeOf(err: unknown): GrpcCode {
  return TO_GRPC[errorCodeOf(err)];
}

/** The ErrorCode for a gRPC code received from a peer (containerd's errdefs.FromGRPC). */
export function errorCodeFromGrpc(code: number): ErrorCode {
  return FROM_GRPC.get(code) ?? ErrorCode.Unknown;
}
