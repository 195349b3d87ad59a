import { LazyAbort } from './lazy-abort.js';
import { metadataFromPairs, type Metadata } from './metadata.js';
import type { DecodedRequest } from './request-decoder.js';
import type { RpcContext } from './rpc-context.js';

/**
 * One request being served: the context its handler sees (RpcContext) and what the connection keeps of it
 * (abort switch, deadline timer, whether it has been answered, the request bytes it holds). One object per
 * call; the metadata Map and the AbortController are made only when the handler reads them (most never do).
 *
 * States: running → answered (by its handler, its deadline, or the connection closing; once).
 */
export class ServerCall implements RpcContext {
  readonly service: string;
  readonly method: string;
  readonly deadline: number | undefined;
  /** The request's size, counted against the connection's maxRequestBytesInFlight while the call runs. */
  readonly bytes: number;
  readonly abort = new LazyAbort();
  timer: NodeJS.Timeout | undefined = undefined;
  answered = false;
  private readonly pairs: DecodedRequest['metadata'];
  private md: Metadata | undefined = undefined;

  constructor(
    readonly streamId: number,
    req: DecodedRequest,
    /** The caller's timeout in ms (0: none). */
    timeoutMs: number,
  ) {
    this.service = req.service;
    this.method = req.method;
    this.bytes = req.payload.length;
    this.pairs = req.metadata;
    this.deadline = timeoutMs > 0 ? Date.now() + timeoutMs : undefined;
  }

  get metadata(): Metadata {
    return (this.md ??= metadataFromPairs(this.pairs));
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }
}
