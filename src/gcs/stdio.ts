/**
 * Per-process stdio relay set-up (hcsshim newIoChannel / HvsockIoListen): one listener per requested
 * stream, on a fresh port from the connection's counter, opened BEFORE ExecuteProcess is sent; the guest
 * dials each port once, and each listener is closed after its single accept.
 */
import type { Duplex } from 'node:stream';
import { ErrorCode, ShimError } from '../errdefs/index.js';
import { logTeardown, type Logger } from '../log/index.js';
import type { Listener } from '../transport/index.js';
import type { ExecuteProcessVsockStdioRelaySettings } from './protocol/index.js';

export type IoListen = (port: number) => Promise<Listener>;

export interface StdioStreams {
  stdin?: Duplex;
  stdout?: Duplex;
  stderr?: Duplex;
}

export interface StdioWants {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
}

type StreamName = keyof StdioStreams;
const NAMES: readonly StreamName[] = ['stdin', 'stdout', 'stderr'];
const WIRE: Record<StreamName, keyof ExecuteProcessVsockStdioRelaySettings> = { stdin: 'StdIn', stdout: 'StdOut', stderr: 'StdErr' };

/** Listeners for one process's streams. */
export class StdioListeners {
  private constructor(
    private readonly listeners: ReadonlyMap<StreamName, { port: number; listener: Listener }>,
    private readonly log: Logger,
  ) {}

  /** Opens a listener per wanted stream, ports from `allocPort` (stdin, stdout, stderr order). */
  static async open(ioListen: IoListen, allocPort: () => number, wants: StdioWants, log: Logger): Promise<StdioListeners> {
    // Ports in stream order (stdin, stdout, stderr), then every listen at once: each is a few file system
    // calls and a bind, independent of the others.
    const ports = NAMES.filter((name) => wants[name]).map((name) => ({ name, port: allocPort() }));
    const results = await Promise.allSettled(ports.map(({ port }) => ioListen(port)));
    const opened = new Map<StreamName, { port: number; listener: Listener }>();
    for (const [i, { name, port }] of ports.entries()) {
      const r = results[i];
      if (r?.status === 'fulfilled') opened.set(name, { port, listener: r.value });
    }
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) {
      await Promise.allSettled([...opened.values()].map((l) => l.listener.close()));
      throw ShimError.from(failed.reason, ErrorCode.Unavailable, 'gcs: cannot listen for process stdio');
    }
    return new StdioListeners(opened, log);
  }

  /** VsockStdioRelaySettings for the request (streams not wanted are omitted). */
  get relaySettings(): ExecuteProcessVsockStdioRelaySettings {
    const out: ExecuteProcessVsockStdioRelaySettings = {};
    for (const [name, { port }] of this.listeners) out[WIRE[name]] = port;
    return out;
  }

  /**
   * Accepts the guest's connection on every listener, closing each listener afterwards. On any failure all
   * accepted connections are destroyed and the error (a ShimError) is thrown.
   */
  async accept(signal: AbortSignal): Promise<StdioStreams> {
    const entries = [...this.listeners];
    const results = await Promise.allSettled(
      entries.map(async ([name, { port, listener }]) => {
        try {
          return await listener.accept(signal);
        } finally {
          await listener.close().catch(logTeardown(this.log, 'closing a stdio listener', { stream: name, port }));
        }
      }),
    );
    const streams: StdioStreams = {};
    let failure: unknown;
    results.forEach((r, i) => {
      const [name, { port }] = entries[i]!;
      if (r.status === 'fulfilled') streams[name] = r.value;
      else failure ??= ShimError.from(r.reason, ErrorCode.Unavailable, `gcs: ${name} connection on port 0x${port.toString(16)} not established`);
    });
    if (failure !== undefined) {
      for (const s of Object.values(streams)) s.destroy();
      throw failure;
    }
    return streams;
  }

  /** Closes every listener (idempotent; used when ExecuteProcess fails). */
  async close(): Promise<void> {
    await Promise.allSettled([...this.listeners.values()].map((l) => l.listener.close()));
  }
}
