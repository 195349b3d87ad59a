/**
 * Container and process operations of the guest: Create, ExecuteProcess, WaitForProcess, SignalProcess,
 * ResizeConsole, GetProperties, Shutdown*, DeleteContainerState and ContainerConstraints, on top of runc
 * (runc.ts), bundles (bundle.ts) and processes (process.ts). Processes started "in the VM"
 * (CreateInUtilityVM / zero container id) are spawned directly. When a container's init exits (and its
 * stdio is drained) the exit notification goes out with the Create request's ActivityId.
 */
import { unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { settlesWithin, writeFile } from '../async/index.js';
import { HResult, ignoreErrno, trySync } from '../errdefs/index.js';
import {
  fromJsonString,
  InfiniteWaitTimeout,
  LCOWRootPrefixInUVM,
  NullContainerID,
  type ContainerConfig,
  type ContainerNotification,
  type ExecuteProcessSettings,
  type ProcessParameters,
  type PropertyQuery,
} from '../gcs/protocol/index.js';
import { rewriteSpec, writeBundle } from './bundle.js';
import { AgentContainer, ContainerState } from './container.js';
import { containerNotFound, errorText, failed, GuestError, invalidArg, processNotFound } from './errors.js';
import type { GuestLogger } from './log.js';
import { PodRegistry } from './pods.js';
import { AgentProcess, type LaunchSpec } from './process.js';
import { removeAll } from './remove-all.js';
import { releaseSandboxDirs, resolveWorkloadSources, setupSandboxDirs } from './sandbox-mounts.js';
import { runcLogError, type Runc } from './runc.js';
import { cgroupMetrics } from './stats.js';
import { closeStdio, connectStdio } from './stdio.js';
import { vmCommand, writeVmRunc } from './vm-bin.js';
import { validateContainerId, type VmPaths } from './vm-paths.js';

export type Notify = (n: ContainerNotification) => void;

export interface ManagerOptions {
  /**
   * Test mode (env LCOW_GUEST_TEST_SHUTDOWN_RACE=1): ShutdownGraceful answers only after the container's exit
   * notification was sent, with Type UnexpectedExit — an order the real GCS sometimes produces.
   */
  readonly shutdownRace?: boolean;
}

/** How long the race mode holds the ShutdownGraceful response for the init's exit. */
const SHUTDOWN_RACE_WAIT_MS = 10_000;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Splits a CommandLine the way a simple shell would (whitespace, single and double quotes). */
export function splitCommandLine(line: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] ?? m[3]!));
  return out;
}

export class ContainerManager {
  readonly containers = new Map<string, AgentContainer>();
  /** Processes in the utility VM itself, by pid. */
  readonly external = new Map<number, AgentProcess>();
  /** CRI pods: sandboxes and their workload containers (pods.ts). */
  readonly pods = new PodRegistry();
  /** `<vmDir>/bin/runc`, written before the VM's first process in the VM itself (vm-bin.ts). */
  private vmBin: Promise<void> | undefined;

  constructor(
    private readonly paths: VmPaths,
    private readonly runc: Runc,
    private readonly notify: Notify,
    private readonly log: GuestLogger,
    private readonly opts: ManagerOptions = {},
  ) {}

  get(id: unknown): AgentContainer {
    const c = this.containers.get(validateContainerId(id));
    if (!c) throw containerNotFound(String(id));
    return c;
  }

  async create(id: string, rawConfig: unknown, activityId: string | undefined): Promise<void> {
    validateContainerId(id);
    if (this.containers.has(id)) throw new GuestError(HResult.ErrVmcomputeSystemAlreadyExists, `container ${id} already exists`);
    const config = fromJsonString<ContainerConfig>(rawConfig, 'ContainerConfig');
    if (!isObj(config)) throw invalidArg('ContainerConfig is required');
    if ('SystemType' in config) throw failed('creating the utility VM itself is not supported (SendHostCreateMessage is false)');
    const sv = config.SchemaVersion;
    if (!isObj(sv) || typeof sv.Major !== 'number' || typeof sv.Minor !== 'number' || sv.Major < 2 || (sv.Major === 2 && sv.Minor < 1)) {
      // The real GCS (VMHostedContainerSettingsV2): HRESULT 0xc037010d "invalid schema version: {2 0}".
      const v = isObj(sv) ? `{${String(sv.Major)} ${String(sv.Minor)}}` : JSON.stringify(sv);
      throw new GuestError(HResult.ErrVmcomputeInvalidJSON, `invalid schema version: ${v}`);
    }
    const bundleDir = this.paths.hostPath(config.OciBundlePath || `${LCOWRootPrefixInUVM}/${id}`, 'OciBundlePath');
    const spec = rewriteSpec(config.OciSpecification, this.paths, id);
    await this.pods.admit(id, spec, bundleDir);
    const pod = this.pods.podOf(id);
    try {
      if (pod?.isSandbox) await setupSandboxDirs(pod.root);
      else if (pod) await resolveWorkloadSources(Array.isArray(spec['mounts']) ? spec['mounts'] : [], pod.root, this.paths, { sandboxId: pod.sandboxId, id });
      writeBundle(bundleDir, spec);
    } catch (err) {
      if (pod?.isSandbox) await releaseSandboxDirs(pod.root, this.log);
      this.pods.remove(id);
      throw err;
    }
    const tty = isObj(spec['process']) && spec['process']['terminal'] === true;
    const scratchDir = config.ScratchDirPath ? this.paths.hostPath(config.ScratchDirPath, 'ScratchDirPath') : undefined;
    this.containers.set(id, new AgentContainer(id, bundleDir, activityId, tty, scratchDir));
    this.log.info('container created', { cid: id, bundle: bundleDir });
  }

  async execute(cid: string, settings: ExecuteProcessSettings | undefined): Promise<number> {
    if (!isObj(settings)) throw invalidArg('Settings is required');
    const params = fromJsonString<ProcessParameters>(settings.ProcessParameters, 'ProcessParameters') ?? {};
    if (!isObj(params)) throw invalidArg('ProcessParameters must be a JSON object');
    const externalProc = params.CreateInUtilityVM === true || params.IsExternal === true || cid === NullContainerID;
    const container = externalProc ? undefined : this.get(cid);
    if (container && !params.OciProcess) container.expect('start init process', ContainerState.Created);
    if (container && params.OciProcess) container.expect('exec process', ContainerState.Running);

    const stdio = await connectStdio(this.paths, settings.VsockStdioRelaySettings);
    let spec: LaunchSpec;
    try {
      spec = container ? await this.runcSpec(container, params) : await this.externalSpec(params);
    } catch (err) {
      closeStdio(stdio);
      throw err;
    }
    const log = this.log.with({ cid, kind: spec.kind });
    const proc = await AgentProcess.launch(spec, stdio, log).catch((err: unknown) => {
      closeStdio(stdio);
      throw err;
    });
    log.info('process started', { pid: proc.pid, tty: spec.tty });
    if (spec.tty && Array.isArray(params.ConsoleSize) && params.ConsoleSize[0] && params.ConsoleSize[1]) {
      await proc.resize(params.ConsoleSize[0], params.ConsoleSize[1]).catch((err: unknown) => log.warn('initial console size', { error: err }));
    }
    if (!container) {
      this.external.set(proc.pid, proc);
      return proc.pid;
    }
    container.processes.set(proc.pid, proc);
    if (spec.kind === 'init') {
      container.init = proc;
      container.state = ContainerState.Running;
      void proc.exited.then((exitStatus) => {
        container.state = ContainerState.Exited;
        log.info('container init exited', { pid: proc.pid, exitStatus });
        this.notify({ ContainerId: container.id, ActivityId: container.activityId ?? '', Type: container.exitType, Operation: 'None', Result: 0 });
      });
    }
    return proc.pid;
  }

  private async runcSpec(c: AgentContainer, params: ProcessParameters): Promise<LaunchSpec> {
    if (!params.OciProcess) {
      const pidFile = join(c.bundleDir, 'init.pid');
      const logFile = join(c.bundleDir, 'runc-init.log');
      trySync(() => unlinkSync(pidFile), ignoreErrno('ENOENT')); // a stale one would be read as this init's pid
      const args = this.runc.argv(['run', '--bundle', c.bundleDir, '--pid-file', pidFile, c.id], logFile);
      return { kind: 'init', command: this.runc.binary, args, tty: c.tty, pidFile, logFile, cwd: c.bundleDir };
    }
    if (!isObj(params.OciProcess)) throw invalidArg('OciProcess must be an object');
    const name = c.nextName('exec');
    const processFile = join(c.bundleDir, `${name}.json`);
    const pidFile = join(c.bundleDir, `${name}.pid`);
    const logFile = join(c.bundleDir, `runc-${name}.log`);
    await writeFile(processFile, JSON.stringify(params.OciProcess), { mode: 0o600 });
    const args = this.runc.argv(['exec', '--process', processFile, '--pid-file', pidFile, c.id], logFile);
    return { kind: 'exec', command: this.runc.binary, args, tty: params.OciProcess['terminal'] === true, pidFile, logFile };
  }

  private async externalSpec(params: ProcessParameters): Promise<LaunchSpec> {
    const argv = params.CommandArgs?.length ? params.CommandArgs : splitCommandLine(params.CommandLine ?? '');
    if (argv.length === 0 || typeof argv[0] !== 'string') throw invalidArg('CommandLine or CommandArgs is required for a process in the utility VM');
    await this.ensureVmBin();
    const cwd = params.WorkingDirectory ? this.paths.hostPath(params.WorkingDirectory, 'WorkingDirectory') : this.paths.rootfs;
    const env = { PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin', ...(params.Environment ?? {}) };
    // The VM's own executables come first (vm-bin.ts): `runc` there is the one holding this VM's containers.
    env.PATH = `${this.paths.vmBin}:${env.PATH}`;
    const command = vmCommand(this.paths, argv[0]) ?? argv[0];
    return { kind: 'external', command, args: argv.slice(1), tty: params.EmulateConsole === true, cwd, env };
  }

  /**
   * Writes the VM's own `runc` wrapper once, before the first process in the VM itself: only such processes
   * see `<vmDir>/bin` (on their PATH and for argv[0]), so a VM that runs none (every `ctr run`) never writes
   * it. A failed write fails that ExecuteProcess (E_FAIL naming the file) and is tried again by the next one.
   */
  private ensureVmBin(): Promise<void> {
    this.vmBin ??= writeVmRunc(this.paths, this.runc).catch((err: unknown) => {
      this.vmBin = undefined;
      throw failed(`writing the utility VM's runc wrapper in ${this.paths.vmBin}`, err);
    });
    return this.vmBin;
  }

  /** The process `pid` of container `cid` (or of the VM for the zero id). */
  findProcess(cid: string, pid: unknown): { proc: AgentProcess; container?: AgentContainer } {
    if (typeof pid !== 'number' || !Number.isInteger(pid)) throw invalidArg('ProcessId must be an integer');
    if (cid === NullContainerID || cid === '') {
      const proc = this.external.get(pid);
      if (proc) return { proc };
      for (const c of this.containers.values()) {
        const p = c.processes.get(pid);
        if (p) return { proc: p, container: c };
      }
      throw processNotFound(pid);
    }
    const c = this.get(cid);
    const proc = c.processes.get(pid);
    if (!proc) throw processNotFound(pid);
    return { proc, container: c };
  }

  async wait(cid: string, pid: unknown, timeoutMs: unknown): Promise<number> {
    const { proc } = this.findProcess(cid, pid);
    const infinite = timeoutMs === undefined || timeoutMs === null || timeoutMs === InfiniteWaitTimeout;
    if (infinite) return proc.exited;
    if (typeof timeoutMs !== 'number' || timeoutMs < 0) throw invalidArg('TimeoutInMs must be a u32');
    if (!(await settlesWithin(proc.exited, timeoutMs))) {
      throw new GuestError(HResult.ErrVmcomputeTimeout, `timed out waiting for process ${String(pid)} after ${timeoutMs} ms`);
    }
    return proc.exited;
  }

  async signal(cid: string, pid: unknown, signal: unknown): Promise<void> {
    const sig = signal === undefined || signal === null || signal === 0 ? 9 : signal;
    if (typeof sig !== 'number' || !Number.isInteger(sig) || sig < 1 || sig > 64) throw invalidArg(`invalid signal ${JSON.stringify(signal)}`);
    const { proc, container } = this.findProcess(cid, pid);
    if (proc.exitStatus !== undefined) throw processNotFound(proc.pid);
    if (container && proc === container.init) {
      await this.runc.kill(container.id, sig);
      return;
    }
    try {
      proc.signal(sig);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ESRCH') throw processNotFound(proc.pid);
      throw failed(`signal process ${proc.pid}`, err);
    }
  }

  async resize(cid: string, pid: unknown, height: unknown, width: unknown): Promise<void> {
    const ok = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffff;
    if (!ok(height) || !ok(width)) throw invalidArg('Height and Width must be u16');
    const { proc } = this.findProcess(cid, pid);
    await proc.resize(height, width);
  }

  async properties(cid: string, rawQuery: unknown): Promise<Record<string, unknown>> {
    if (cid === NullContainerID) throw failed('getProperties is not supported against the utility VM');
    const c = this.get(cid);
    const query = fromJsonString<PropertyQuery>(rawQuery, 'Query') ?? { PropertyTypes: [] };
    const types = Array.isArray(query.PropertyTypes) ? query.PropertyTypes : [];
    const props: Record<string, unknown> = {};
    const running = c.state === ContainerState.Running && c.init !== undefined;
    for (const t of types) {
      if (t === 'ProcessList') {
        const pids = running ? await this.runc.ps(c.id) : [];
        props['ProcessList'] = pids.map((p) => ({ ProcessId: p }));
      } else if (t === 'Statistics') {
        if (!running) throw failed(`container ${c.id} is not running`);
        props['LCOWMetrics'] = await cgroupMetrics(c.init!.pid);
      } else {
        throw failed(`unsupported property type ${JSON.stringify(t)}`);
      }
    }
    return props;
  }

  /** ShutdownGraceful (SIGTERM) / ShutdownForced (SIGKILL) of a container's init. */
  async shutdown(cid: string, forced: boolean): Promise<void> {
    const c = this.get(cid);
    if (c.state !== ContainerState.Running) return;
    if (!forced && this.opts.shutdownRace) {
      // The real GCS's race, forced: the exit is recorded after `runc kill` returns, so the notification goes
      // out first, typed UnexpectedExit, and the ShutdownGraceful response after it (bounded wait).
      await this.runc.kill(c.id, 15);
      await settlesWithin(c.init!.exited, SHUTDOWN_RACE_WAIT_MS);
      await new Promise((resolve) => setImmediate(resolve)); // the notification is written before the response
      return;
    }
    c.exitType = forced ? 'ForcedExit' : 'GracefulExit';
    await this.runc.kill(c.id, forced ? 9 : 15);
  }

  async update(cid: string, resources: unknown): Promise<void> {
    const c = this.get(cid);
    c.expect('update constraints', ContainerState.Running);
    if (!isObj(resources)) throw invalidArg('ContainerConstraints needs Settings.Linux (OCI LinuxResources)');
    const file = join(c.bundleDir, `${c.nextName('resources')}.json`);
    await writeFile(file, JSON.stringify(resources), { mode: 0o600 });
    await this.runc.update(c.id, file);
  }

  /**
   * DeleteContainerState, exactly as destructive as the real GCS (hcsv2 Container.Delete): `runc delete`,
   * then remove the scratch dir and the bundle dir recursively WITHOUT unmounting anything first. Whatever is
   * still mounted under them (the rootfs share, bind sources) is emptied through the mount — on Windows
   * that is the user's host directory — and the call then fails with E_FAIL (EBUSY on the mount point). The
   * container is forgotten either way. The host must release every share before sending this.
   */
  async delete(cid: string): Promise<void> {
    const c = this.get(cid);
    const errors: string[] = [];
    const pod = this.pods.podOf(c.id);
    if (pod?.isSandbox) await releaseSandboxDirs(pod.root, this.log); // the pod's guest-side mount dirs first, as the real GCS
    try {
      // The real GCS runs `runc delete` (its init came from `runc create`, whose state stays until then); our
      // init's `runc run` already deleted the state when the init exited, so delete only what is still there.
      if (c.init && (await this.runc.hasState(c.id))) await this.runc.delete(c.id, false);
    } catch (err) {
      errors.push(errorText(err));
    }
    for (const dir of [c.scratchDir, c.bundleDir]) {
      if (dir === undefined) continue;
      await removeAll(dir).catch((err: unknown) => errors.push(errorText(err)));
    }
    this.containers.delete(c.id);
    this.pods.remove(c.id);
    if (errors.length > 0) {
      this.log.error('container delete failed', { cid: c.id, error: errors.join('; ') });
      throw failed(`errors deleting container state: ${errors.join('; ')}`);
    }
    this.log.info('container deleted', { cid: c.id });
  }

  /** Agent shutdown: SIGKILL every container and VM process, wait briefly, delete the runc state. */
  async stopAll(): Promise<void> {
    for (const p of this.external.values()) p.killChild();
    await Promise.all(
      [...this.containers.values()].map(async (c) => {
        if (c.state === ContainerState.Running) {
          await this.runc.kill(c.id, 9).catch((err: unknown) => this.log.debug('kill on shutdown', { cid: c.id, error: err }));
          const done = await settlesWithin(c.init!.exited, 10_000);
          if (!done) for (const p of c.processes.values()) p.killChild();
        }
        if (c.init) await this.runc.delete(c.id, true).catch(async (err: unknown) => this.log.debug('delete on shutdown', { cid: c.id, error: err, runc: await runcLogError(join(c.bundleDir, 'runc-init.log')) }));
      }),
    );
  }
}
