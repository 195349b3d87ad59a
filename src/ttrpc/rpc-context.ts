import type { Metadata } from './metadata.js';

/** What a unary handler learns about the call it serves. */
export interface RpcContext {
  /** Full service name, e.g. `containerd.task.v2.Task`. */
  readonly service: string;
  /** Bare method name, e.g. `Create`. */
  readonly method: string;
  /** The stream id the call arrived on (odd). */
  readonly streamId: number;
  /** Lower-cased keys; repeated keys keep every value. */
  readonly metadata: Metadata;
  /**
   * Aborts when the call's deadline passes (reason: ShimError DeadlineExceeded) or the connection
   * closes (reason: TtrpcClosedError). The answer has then already been decided; stop working.
   */
  readonly signal: AbortSignal;
  /** Epoch milliseconds of the caller's deadline (from timeout_nano), or undefined when it set none. */
  readonly deadline: number | undefined;
}

/** A unary method: the serialized request in, the serialized reply out. Throw ShimError to fail. */
export type UnaryHandler = (payload: Uint8Array, ctx: RpcContext) => Promise<Uint8Array>;

/** A service's methods by bare method name. */
export type ServiceMethods = Readonly<Record<string, UnaryHandler>>;
