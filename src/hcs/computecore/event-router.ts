import { rootLogger } from '../../log/index.js';
import type { ComputecoreLibrary, RawHcsEvent } from './ffi.js';

/**
 * The one process-wide HCS_EVENT_CALLBACK (hcsshim's notification pattern, hcs-and-uvm.md §2.5).
 *
 * - koffi allows at most 8192 registered callbacks, so a single one is registered per library and
 *   every system passes a numeric context id (never a pointer) that maps to its listener here.
 * - HCS calls it on its own threads; koffi relays the call to the JS main thread and the HCS thread
 *   blocks until we return. We therefore only copy the event and hand it to the listener on a later
 *   turn (setImmediate), and never throw back into native code.
 * - koffi's relay does not keep Node alive, so while any system has a callback registered a ref'd
 *   timer holds the event loop open; it is dropped when the last registration is removed (after
 *   HcsCloseComputeSystem, which drains in-flight callbacks, has returned).
 */
export type EventListener = (event: RawHcsEvent) => void;

/** HCS_EVENT_TYPE values the shim acts on (ComputeDefs.h). Compare as uint32. */
export const HcsEventType = {
  Invalid: 0x0,
  SystemExited: 0x1,
  SystemCrashInitiated: 0x2,
  SystemCrashReport: 0x3,
  SystemRdpEnhancedModeStateChanged: 0x4,
  SystemSiloJobCreated: 0x5,
  SystemGuestConnectionClosed: 0x6,
  ProcessExited: 0x00010000,
  OperationCallback: 0x01000000,
  ServiceDisconnect: 0x02000000,
} as const;

/** HCS_EVENT_OPTIONS: we ask for no operation callbacks (every operation is waited on explicitly). */
export const HcsEventOptionNone = 0x0;

export class EventRouter {
  private callbackPtr: unknown;
  private nextId = 1;
  private readonly listeners = new Map<number, EventListener>();
  private keepAlive: NodeJS.Timeout | undefined;

  constructor(private readonly lib: ComputecoreLibrary) {}

  /** The registered function pointer to pass to HcsSetComputeSystemCallback (registered on first use). */
  get pointer(): unknown {
    this.callbackPtr ??= this.lib.registerEventCallback((ev, ctx) => this.dispatch(ev, ctx));
    return this.callbackPtr;
  }

  /** Reserves a context id for a listener and holds the process open while it exists. */
  add(listener: EventListener): number {
    const id = this.nextId++;
    this.listeners.set(id, listener);
    this.keepAlive ??= setInterval(() => undefined, 0x7fffffff);
    return id;
  }

  remove(id: number): void {
    this.listeners.delete(id);
    if (this.listeners.size === 0 && this.keepAlive !== undefined) {
      clearInterval(this.keepAlive);
      this.keepAlive = undefined;
    }
  }

  get size(): number {
    return this.listeners.size;
  }

  private dispatch(ev: RawHcsEvent, ctx: bigint): void {
    try {
      const listener = ctx <= BigInt(Number.MAX_SAFE_INTEGER) ? this.listeners.get(Number(ctx)) : undefined;
      if (listener === undefined) return; // late event for a system already closed: dropped
      setImmediate(() => {
        try {
          listener(ev);
        } catch (err) {
          // A listener bug must not become an uncaught exception: logged, the other systems' events go on.
          const error = err instanceof Error ? err.message : String(err);
          rootLogger().error('hcs: an event listener threw', { type: `0x${(ev.Type >>> 0).toString(16)}`, error });
        }
      });
    } catch (err) {
      // Never throw into native code (this runs on HCS's callback thread): logged instead.
      rootLogger().error('hcs: dispatching an event failed', { error: err instanceof Error ? err.message : String(err) });
    }
  }
}
