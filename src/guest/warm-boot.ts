/**
 * A pre-loaded guest agent (the Linux HCS emulator's warm start, src/hcs/emulator/warm-guest.ts). The emulator
 * may spawn the agent's Node process before any VM starts, with env LCOW_GUEST_AWAIT_BOOT=1 and an IPC channel,
 * so that starting Node and loading this code overlap the host's work before HcsStartComputeSystem. Such a
 * process says {lcowGuestBoot: 'ready'} once it listens (a message sent before would be lost), then does
 * nothing until the emulator's Start hands it what init and vsockexec give the agent of a fresh VM, in this
 * order on the channel:
 *   {lcowGuestBoot: 'stdio', fd: 0 | 1 | 2}   with the vsock connection vsockexec -i/-o/-e named as the handle
 *   {lcowGuestBoot: 'run', args, env, cwd}    the arguments after /bin/gcs, the environment, the VM dir
 * It then closes the channel and runs exactly as an agent spawned at Start: same flags, same environment, same
 * waits and errors (nothing here is more forgiving). Before 'run' it dials nothing and knows no VM dir; if the
 * channel closes first (the shim exited, or discarded it) it exits without having done anything.
 */
import { Socket } from 'node:net';

export const AWAIT_BOOT_ENV = 'LCOW_GUEST_AWAIT_BOOT';

export interface BootRequest {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  /** The vsock connections standing in for fds 0, 1, 2 (undefined: that fd is /dev/null, as without vsockexec). */
  readonly stdio: readonly [Socket | undefined, Socket | undefined, Socket | undefined];
}

/** True when this process was spawned pre-loaded (env set and an IPC channel present). */
export function awaitsBoot(env: NodeJS.ProcessEnv = process.env): boolean {
  return env[AWAIT_BOOT_ENV] === '1' && typeof process.send === 'function';
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');
const isStringMap = (v: unknown): v is Record<string, string> => isObj(v) && Object.values(v).every((s) => typeof s === 'string');

/**
 * Waits for the emulator's boot messages; resolves with them, or undefined when the channel closed first.
 * A malformed 'run' message rejects (main exits 1: the emulator and the agent disagree on the handover).
 */
export function awaitBoot(): Promise<BootRequest | undefined> {
  return new Promise((resolve, reject) => {
    const stdio: [Socket | undefined, Socket | undefined, Socket | undefined] = [undefined, undefined, undefined];
    const done = (): void => {
      process.off('message', onMessage);
      process.off('disconnect', onDisconnect);
    };
    const onDisconnect = (): void => {
      done();
      for (const s of stdio) s?.destroy();
      resolve(undefined);
    };
    const onMessage = (msg: unknown, handle: unknown): void => {
      if (!isObj(msg)) return;
      if (msg['lcowGuestBoot'] === 'stdio') {
        const fd = msg['fd'];
        if ((fd === 0 || fd === 1 || fd === 2) && handle instanceof Socket) stdio[fd] = handle;
        return;
      }
      if (msg['lcowGuestBoot'] !== 'run') return;
      done();
      // Not from inside this 'message' event: Node's channel code still runs after it (setImmediate).
      setImmediate(() => process.disconnect());
      const { args, env, cwd } = msg;
      if (!isStringArray(args) || !isStringMap(env) || typeof cwd !== 'string' || !cwd.startsWith('/')) {
        reject(new Error('malformed boot message from the emulator (want args: string[], env: {string: string}, cwd: absolute path)'));
        return;
      }
      resolve({ argv: args, env, cwd, stdio });
    };
    process.on('message', onMessage);
    process.once('disconnect', onDisconnect);
    if (!process.connected) return onDisconnect(); // closed while this code loaded
    process.send?.({ lcowGuestBoot: 'ready' });
  });
}

/** Makes this process look as if spawned for the VM: its environment replaced by `env`, cwd the VM dir. */
export function applyBoot(req: BootRequest): void {
  for (const key of Object.keys(process.env)) if (!(key in req.env)) delete process.env[key];
  Object.assign(process.env, req.env);
  process.chdir(req.cwd);
}
