/**
 * What the shim's ttrpc edges share: decoding a request payload (a malformed one is InvalidArgument, from
 * ttrpc's unmarshalPayload) and the method table that times each call and logs it at debug level.
 */
import { Field, type Logger } from '../log/index.js';
import { unmarshalPayload, type RpcContext, type UnaryHandler } from '../ttrpc/index.js';

export const decodePayload = <T>(type: { decode(bytes: Uint8Array): T }, payload: Uint8Array): T =>
  unmarshalPayload(payload, (b) => type.decode(b));

export interface TimedMethodsOptions {
  /** Each call logs `<label> <method>` with its duration; a failure first logs `<failurePrefix><method> failed`. */
  readonly label: string;
  readonly failurePrefix: string;
  /** Methods logged at trace instead of debug (called often: Connect, State, …). */
  readonly quiet?: ReadonlySet<string>;
  /** Runs as a call arrives, before it is handled (a start-up milestone line). */
  readonly onCall?: (method: string) => void;
}

/**
 * A ttrpc method table over `calls`: each is timed and logged at debug (or trace when quiet), errors rethrown.
 * The level is read as each call arrives (it may change while the daemon runs): a call whose line is off
 * (the quiet methods at debug level, every call at info) takes neither the clock nor the fields, and adds
 * one promise reaction only for the failure line; the handler's own promise is otherwise what the server gets.
 */
export function timedMethods(calls: Readonly<Record<string, (payload: Uint8Array) => Promise<Uint8Array>>>, log: Logger,
  opts: TimedMethodsOptions): Record<string, UnaryHandler> {
  const methods: Record<string, UnaryHandler> = {};
  for (const [name, call] of Object.entries(calls)) {
    const level = (opts.quiet?.has(name) ?? false) ? 'trace' : 'debug';
    const failed = (err: unknown): never => {
      log.debug(`${opts.failurePrefix}${name} failed`, { [Field.Operation]: name, error: (err as Error).message });
      throw err;
    };
    const timed = async (payload: Uint8Array, ctx: RpcContext): Promise<Uint8Array> => {
      const started = process.hrtime.bigint();
      try {
        return await call(payload);
      } catch (err) {
        return failed(err);
      } finally {
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        log.log(level, `${opts.label} ${name}`, { [Field.Operation]: name, [Field.Duration]: `${ms.toFixed(1)}ms`, method: ctx.method });
      }
    };
    methods[name] = (payload: Uint8Array, ctx: RpcContext): Promise<Uint8Array> => {
      opts.onCall?.(name);
      if (log.isLevelEnabled(level)) return timed(payload, ctx);
      return call(payload).catch(failed);
    };
  }
  return methods;
}

/** Binds each entry of an RPC table to its logic and extra argument. */
export function bindRpcs<L, X>(rpcs: Readonly<Record<string, (payload: Uint8Array, logic: L, extra: X) => Promise<Uint8Array>>>,
  logic: L, extra: X): Record<string, (payload: Uint8Array) => Promise<Uint8Array>> {
  return Object.fromEntries(Object.entries(rpcs).map(([name, rpc]) => [name, (payload: Uint8Array) => rpc(payload, logic, extra)]));
}
