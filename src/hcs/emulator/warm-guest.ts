/**
 * A pre-loaded guest agent: with `warmBootFiles`, the emulator spawns the agent's Node process when it is
 * created, before any VM exists, so that starting Node and loading the agent's code (most of an emulated VM's
 * boot) overlap the host's work up to HcsStartComputeSystem. The order the host sees does not change: the VM
 * still boots only at Start, where the emulator dials the vsockexec ports as before (same failures) and hands
 * the process its arguments, environment, VM dir and those connections (src/guest/warm-boot.ts); until then
 * the process dials nothing and knows no VM. A real HCS cannot do this; it is the emulator's own shortcut,
 * like a hypervisor keeping a VM template warm, and the agent behaves exactly as one spawned at Start.
 *
 * Used at most once, by the first Start whose guest entry is the one it loaded and whose VM dies with its
 * owner (ShouldTerminateOnLastHandleClosed: the process runs under `setpriv --pdeathsig KILL` like such an
 * agent); any other Start discards it and spawns as before. It never outlives this process (pdeathsig, and
 * it exits when its channel closes) and is discarded after IDLE_MS unused.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { handledElsewhere } from '../../async/index.js';
import type { Logger } from '../../log/index.js';
import { guestCommand } from './guest-command.js';

/** A pre-loaded agent nobody took within this long is discarded (a shim that never starts a VM). */
export const WARM_IDLE_MS = 30_000;

/** The environment variable that tells the agent to wait for its boot messages (src/guest/warm-boot.ts). */
const AWAIT_BOOT_ENV = 'LCOW_GUEST_AWAIT_BOOT';

/**
 * Milliseconds since this process started (what performance.now() gives), from process.uptime(): the global
 * `performance` loads perf_hooks and its seven internal modules on first use (+0.3 MB RSS for the daemon's life).
 */
const uptimeMs = (): number => process.uptime() * 1000;

export interface WarmGuestBoot {
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** fds 0, 1, 2: the connections vsockexec would have given the agent ('ignore': /dev/null). */
  readonly stdio: ReadonlyArray<Socket | 'ignore'>;
}

/** boot(): the process exited or closed its channel before it was ready; nothing was handed to it. */
export class WarmGuestNotReady extends Error {
  override name = 'WarmGuestNotReady';
}

export class WarmGuest {
  private readonly idle: NodeJS.Timeout;
  private taken = false;
  /** uptimeMs() at the spawn, for the debug lines' timings. */
  private readonly spawnedAt = uptimeMs();
  /** Resolves once the agent listens on its channel (its 'ready'); rejects if it exits or closes it first. */
  private readonly ready: Promise<void>;

  private constructor(
    readonly entry: string,
    readonly dieWithParent: boolean,
    readonly child: ChildProcess,
    private readonly log: Logger,
  ) {
    this.idle = setTimeout(() => {
      this.log.debug('HCS emulator: pre-loaded guest agent unused, discarded', { pid: child.pid });
      this.discard();
    }, WARM_IDLE_MS);
    this.idle.unref();
    this.ready = new Promise<void>((resolve, reject) => {
      const onMessage = (msg: unknown): void => {
        if (typeof msg !== 'object' || msg === null || (msg as { lcowGuestBoot?: unknown }).lcowGuestBoot !== 'ready') return;
        settle();
        this.log.debug('HCS emulator: pre-loaded guest agent ready', { pid: child.pid, loadMs: Math.round(uptimeMs() - this.spawnedAt) });
        resolve();
      };
      const onGone = (): void => {
        settle();
        const how = child.exitCode !== null ? `status ${child.exitCode}` : child.signalCode !== null ? `signal ${child.signalCode}` : 'its channel closed';
        reject(new WarmGuestNotReady(`the pre-loaded guest agent ended before it was ready (${how})`));
      };
      // Listening on the channel refs it: only until the agent is ready (or gone), then unref'd again.
      const settle = (): void => {
        child.off('message', onMessage);
        child.off('exit', onGone);
        child.off('disconnect', onGone);
      };
      child.on('message', onMessage);
      child.once('exit', onGone);
      child.once('disconnect', onGone);
    });
    handledElsewhere(this.ready); // boot() reports it
  }

  /**
   * Spawns the agent's command without its arguments (guest-command.ts: `<node> --no-warnings <entry>`, under
   * `setpriv` when given) in its own process group, stdio /dev/null plus the IPC channel, environment `env` (the
   * agent's base environment) with the wait flag.
   */
  static spawn(entry: string, env: NodeJS.ProcessEnv, setpriv: string | undefined, log: Logger): WarmGuest {
    const [file, args] = guestCommand(entry, [], setpriv);
    const child = spawn(file, args, {
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
      env: { ...env, [AWAIT_BOOT_ENV]: '1' },
      detached: true,
      cwd: '/',
    });
    child.on('error', (err) => log.warn('HCS emulator: pre-loaded guest agent failed', { error: String(err) }));
    // Neither the process nor its channel keeps this process alive.
    child.unref();
    child.channel?.unref();
    // uptimeMs: how far into this process's life (e.g. serve's start) the agent's own start begins.
    log.debug('HCS emulator: pre-loading a guest agent', { pid: child.pid, entry, uptimeMs: Math.round(uptimeMs()) });
    return new WarmGuest(entry, setpriv !== undefined, child, log);
  }

  /** Alive, its channel open, not yet taken. */
  get usable(): boolean {
    return !this.taken && this.child.exitCode === null && this.child.signalCode === null && this.child.connected;
  }

  /**
   * Hands over the VM: the stdio connections, then the run message; resolves once all were written. Rejects
   * with WarmGuestNotReady when the process ended before it was ready (nothing was handed over).
   */
  async boot(b: WarmGuestBoot): Promise<ChildProcess> {
    this.taken = true;
    clearTimeout(this.idle);
    const bootAt = uptimeMs();
    await this.ready;
    // waitedMs > 0: the VM booted before the agent had loaded (its start did not fully overlap the host's work).
    this.log.debug('HCS emulator: handing the VM to the pre-loaded guest agent', { pid: this.child.pid, waitedMs: Math.round(uptimeMs() - bootAt) });
    const send = (msg: object, handle?: Socket): Promise<void> =>
      new Promise((resolve, reject) => {
        // keepOpen: the caller closes its copies (one connection may stand for two fds).
        this.child.send(msg, handle, { keepOpen: true }, (err) => (err ? reject(err) : resolve()));
      });
    for (const [fd, s] of b.stdio.entries()) if (s !== 'ignore') await send({ lcowGuestBoot: 'stdio', fd }, s);
    await send({ lcowGuestBoot: 'run', args: b.args, env: b.env, cwd: b.cwd });
    return this.child;
  }

  /** Ends the process group (it has done nothing yet); idempotent. */
  discard(): void {
    this.taken = true;
    clearTimeout(this.idle);
    const pid = this.child.pid;
    if (pid === undefined || this.child.exitCode !== null || this.child.signalCode !== null) return;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
