/**
 * "Boots" the emulated utility VM: plays init and vsockexec from the kernel command line, then runs the
 * guest agent as a child process:
 *   [setpriv --pdeathsig KILL --] <node> --no-warnings <guest entry> <args after /bin/gcs>
 * in its own process group (so terminate can kill the whole group), with
 *   LCOW_GUEST_VM_DIR=<vmDir>, LCOW_GUEST_ENTROPY_PORT=<init -e port> (when given),
 *   stdin/stdout/stderr = the vsock sockets vsockexec -i/-o/-e name, dialed here (else /dev/null).
 * The setpriv wrapper (when the document asks ShouldTerminateOnLastHandleClosed and util-linux is there)
 * makes the agent die with the shim, as HCS kills such a VM when its last handle goes away.
 * With a pre-loaded agent (warm-guest.ts) the same dials happen and the same command, environment, cwd and
 * connections are handed to that process instead of spawning one; one that ended before it was ready (it
 * was handed nothing) is replaced by an agent spawned here.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Socket } from 'node:net';
import type { Logger } from '../../log/index.js';
import { UnixTransport, emulatedVsockPath } from '../../transport/index.js';
import { guestCommand } from './guest-command.js';
import type { GuestLaunchPlan } from './kernel-cmdline.js';
import { WarmGuestNotReady, type WarmGuest } from './warm-guest.js';

export interface LaunchOptions {
  readonly plan: GuestLaunchPlan;
  readonly runtimeId: string;
  readonly root: string;
  readonly vmDir: string;
  readonly guestEntry: string;
  readonly dieWithParent: boolean;
  readonly memoryMB: number;
  readonly processorCount: number;
  readonly log: Logger;
  /** A pre-loaded agent of this entry to hand the VM to, instead of spawning one. */
  readonly warm?: WarmGuest;
}

/**
 * The agent's environment without the VM's part: what a pre-loaded agent is spawned with. The host's Node
 * start-up settings stay out, as a VM's /bin/gcs sees nothing of the host: NODE_OPTIONS, and
 * NODE_EXTRA_CA_CERTS (the agent makes no TLS connection; loading the file cost ~50 ms of CPU per agent start).
 */
export function agentBaseEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env['NODE_TEST_CONTEXT'];
  delete env['NODE_OPTIONS'];
  delete env['NODE_EXTRA_CA_CERTS'];
  delete env['LCOW_GUEST_ENTROPY_PORT'];
  return env;
}

/** Dials a vsock port of the VM as vsockexec would; failure means the host is not listening. */
async function dialPort(opts: LaunchOptions, port: number): Promise<Socket> {
  const path = emulatedVsockPath(opts.runtimeId, port, opts.root);
  return (await new UnixTransport({ emulatorRoot: opts.root }).dial(path)) as Socket;
}

export async function launchGuest(opts: LaunchOptions): Promise<ChildProcess> {
  const { plan } = opts;
  const dialed = new Map<number, Socket>();
  const streamFor = async (port: number | undefined): Promise<Socket | 'ignore'> => {
    if (port === undefined) return 'ignore';
    let s = dialed.get(port);
    if (s === undefined) {
      s = await dialPort(opts, port);
      dialed.set(port, s);
    }
    return s;
  };
  try {
    const stdio = [await streamFor(plan.stdinPort), await streamFor(plan.stdoutPort), await streamFor(plan.stderrPort)];
    const env: NodeJS.ProcessEnv = { ...agentBaseEnv(), LCOW_GUEST_VM_DIR: opts.vmDir };
    if (plan.entropyPort !== undefined) env['LCOW_GUEST_ENTROPY_PORT'] = String(plan.entropyPort);
    env['LCOW_EMULATOR_MEMORY_MB'] = String(opts.memoryMB);
    env['LCOW_EMULATOR_PROCESSORS'] = String(opts.processorCount);
    const setpriv = opts.dieWithParent ? findOnPath('setpriv') : undefined;
    const [file, args] = guestCommand(opts.guestEntry, plan.gcsArgs, setpriv);
    opts.log.info('HCS emulator: booting emulated utility VM (the guest agent runs as a host process, not in a VM)', {
      runtimeId: opts.runtimeId,
      vmDir: opts.vmDir,
      command: [file, ...args].join(' '),
      entropyPort: plan.entropyPort,
      stdoutPort: plan.stdoutPort,
      stderrPort: plan.stderrPort,
      consoleShell: plan.consoleShell,
      ...(opts.warm === undefined ? {} : { preloaded: opts.warm.child.pid }),
    });
    if (opts.warm !== undefined) {
      try {
        return await opts.warm.boot({ args: plan.gcsArgs, env, cwd: opts.vmDir, stdio });
      } catch (err) {
        if (!(err instanceof WarmGuestNotReady)) throw err;
        opts.log.warn('HCS emulator: the pre-loaded guest agent ended before it was ready; spawning one', { runtimeId: opts.runtimeId, error: err.message });
      }
    }
    const child = spawn(file, args, { stdio, env, detached: true, cwd: opts.vmDir });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    return child;
  } finally {
    // The child holds its own copies of the socket descriptors; ours are closed (not shut down).
    for (const s of dialed.values()) s.destroy();
  }
}

let setprivPath: string | null | undefined;

export function findOnPath(name: string): string | undefined {
  if (setprivPath !== undefined) return setprivPath ?? undefined;
  setprivPath = null;
  const dirs = (process.env['PATH'] ?? '').split(delimiter).concat(['/usr/bin', '/bin']);
  for (const dir of dirs) {
    try {
      accessSync(join(dir, name), constants.X_OK);
      setprivPath = join(dir, name);
      break;
    } catch {
      // not here
    }
  }
  return setprivPath ?? undefined;
}
