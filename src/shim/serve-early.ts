/**
 * `serve`'s early stage: what the daemon does first, run before the shim's bundle is compiled and initialised
 * (~25 ms of CPU, far longer on a loaded machine), from a small bundle of its own (scripts/build-steps/
 * 30-code-cache.mjs: bin/serve-early.cjs, run by bin/code-cache.cjs when the action is `serve`). On Linux (the
 * transport's 'listener-fd' mode) it listens on -socket (or takes the listening fd Node's `start` passed)
 * exactly as serve-listener.ts does, and says "listening <pid>" on the ready fd: the sh `start` prints the
 * address, and containerd connects and sends its first requests while the bundle loads (they wait in order,
 * as in serve-listener.ts). Then the bundle loads and `serve` takes the listener (`takeEarlyListener`).
 * The stage never throws: when it cannot listen it leaves the environment as it was, and `serve` listens itself
 * as without this stage (and reports why it cannot). On Windows it does nothing (`serve` listens on its pipe
 * once serving: reexec-start.ts).
 *
 * Both bundles run in one process with their own copies of this module: the listener is handed over in a
 * process-wide slot (a registered symbol on globalThis), taken at most once.
 */
import { platformServeMode } from '../transport/index.js';
import { parseContainerdFlags } from './fast-flags.js';
import { LISTEN_FD_ENV, READY_FD_ENV, serveListener, type ServeListener } from './serve-listener.js';

const SLOT = Symbol.for('containerd-shim-lcow-v1.serve-early-listener');

interface Slot {
  readonly socket: string;
  readonly listener: ServeListener;
}

type Global = { [SLOT]?: Slot };

/**
 * Runs the early stage for this command line (`argv` without node and the script); true when it listens.
 * Never rejects. serveListener runs on a copy of `env`: on success the two variables it takes leave `env`
 * too; on failure `env` keeps them, so `serve`'s own serveListener runs as without this stage (and still
 * signals the ready fd).
 */
export async function serveEarly(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  const flags = parseContainerdFlags(argv);
  if (flags?.action !== 'serve' || platformServeMode() !== 'listener-fd') return false;
  const g = globalThis as Global;
  if (g[SLOT] !== undefined) return false;
  try {
    const listener = await serveListener(flags.socket, { ...env });
    delete env[LISTEN_FD_ENV];
    delete env[READY_FD_ENV];
    g[SLOT] = { socket: flags.socket, listener };
    return true;
  } catch {
    return false; // `serve` listens itself, and reports why it cannot
  }
}

/**
 * The early listener, once, if it listens on `socket` (what `serve`'s flags name); one on another socket is
 * abandoned (not expected: both parse the same command line). Undefined: `serve` listens itself.
 */
export function takeEarlyListener(socket: string): ServeListener | undefined {
  const g = globalThis as Global;
  const slot = g[SLOT];
  if (slot === undefined) return undefined;
  delete g[SLOT];
  if (slot.socket === socket) return slot.listener;
  slot.listener.abandon();
  return undefined;
}
