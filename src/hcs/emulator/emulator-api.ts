/**
 * HcsApi on Linux: an emulator of the Host Compute Service. It honours the same schema2 documents as
 * HCS, but a "utility VM" is a VM dir plus the guest agent (src/guest) running as a host process; see
 * README.md beside this file for what is and is not emulated. Systems this process created live in a
 * process-wide registry; like HCS, open and enumerate also reach systems of other processes, through
 * the `<vmDir>/system.json` record each VM dir carries (system-record.ts, foreign-system.ts).
 */
import { chmod, mkdir, rm } from '../../async/index.js';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HResult } from '../../errdefs/index.js';
import { rootLogger, type Logger } from '../../log/index.js';
import { randomUUID } from '../../random/index.js';
import { emulatedVmDir, emulatorRoot } from '../../transport/index.js';
import type { HcsCallOptions, ComputeSystemSummary, HcsApi, HcsSystem, HostInfo } from '../hcs-api.js';
import type { ComputeSystem } from '../schema/index.js';
import { EmulatedDevices } from './devices.js';
import { DEFAULT_STOP_TIMEOUT_MS, EmulatedVm } from './emulated-vm.js';
import { ForeignSystemHandle, observeState } from './foreign-system.js';
import { hcsFail } from './hresults.js';
import { EmulatedSystemHandle } from './system-handle.js';
import { isAlive, processRef, scanRecords, type ProcessRef, type SystemRecord } from './system-record.js';
import { validateDocument } from './validate-document.js';
import { firstFile, guestEntryCandidates } from './boot-files.js';
import { agentBaseEnv, findOnPath } from './guest-launcher.js';
import { WarmGuest } from './warm-guest.js';

export interface EmulatorOptions {
  /** Emulator root (default: env LCOW_EMULATOR_ROOT, else /run/containerd-shim-lcow-v1/vm). */
  readonly root?: string;
  /** The guest agent entry (default: the initrd manifest's, else the built src/guest/main.js). */
  readonly guestEntry?: string;
  readonly log?: Logger;
  /** The Windows build the emulator reports (default 20348, Windows Server 2022). */
  readonly osBuild?: number;
  /** runc used to sweep containers at teardown (default `runc` on PATH). */
  readonly runcBinary?: string;
  /**
   * A boot-files folder (with an emulator `initrd.img` manifest): pre-load the agent its manifest names now,
   * for the first VM that boots that agent (warm-guest.ts). Default: none (every VM spawns its agent at Start).
   */
  readonly warmBootFiles?: string;
}

export const EMULATED_OS_BUILD = 20348;

/** Every system created in this process, by id (shared by all emulator instances, like the machine-wide HCS). */
const registry = new Map<string, EmulatedVm>();
const reserved = new Set<string>();
let self: Promise<ProcessRef> | undefined;

/** This process as system records name their owner (pid + start time). */
function ownerProcess(): Promise<ProcessRef> {
  self ??= processRef().then((ref) => ref ?? { Pid: process.pid, StartTime: '' });
  return self;
}

/** Longest compute system id accepted (HCS ids are short strings; this only bounds a scan's comparisons). */
const MAX_ID_LENGTH = 1024;

function validId(id: unknown): id is string {
  return typeof id === 'string' && id !== '' && id.length <= MAX_ID_LENGTH && !id.includes('\0');
}

export function createEmulatorHcsApi(options: EmulatorOptions = {}): HcsApi {
  return new EmulatorHcsApi(options);
}

class EmulatorHcsApi implements HcsApi {
  readonly backend = 'emulator' as const;
  private readonly log: Logger;
  private readonly defaultGuestEntry = fileURLToPath(new URL('../../guest/main.js', import.meta.url));

  /** The pre-loaded agent (options.warmBootFiles), until a Start takes or discards it. */
  private warm: Promise<WarmGuest | undefined> | undefined;

  constructor(private readonly options: EmulatorOptions) {
    this.log = (options.log ?? rootLogger()).child({ backend: 'emulator' });
    // Synchronous: spawned here, before the caller's next turn of the event loop (serve: before it serves).
    if (options.warmBootFiles !== undefined) this.warm = Promise.resolve(this.preload(options.warmBootFiles));
  }

  /** Never throws: without a pre-loaded agent every VM spawns its own, as before. */
  private preload(bootFiles: string): WarmGuest | undefined {
    const entry = firstFile(guestEntryCandidates(join(bootFiles, 'initrd.img'), this.options.guestEntry, this.defaultGuestEntry));
    if (entry === undefined) return undefined; // Start reports the missing agent
    try {
      return WarmGuest.spawn(entry, agentBaseEnv(), findOnPath('setpriv'), this.log);
    } catch (err) {
      this.log.warn('HCS emulator: cannot pre-load the guest agent', { entry, error: String(err) });
      return undefined;
    }
  }

  /** The pre-loaded agent for a VM booting `entry`, if it suits (else it is discarded); at most once. */
  private async takeWarmGuest(entry: string, dieWithParent: boolean): Promise<WarmGuest | undefined> {
    const pending = this.warm;
    this.warm = undefined;
    const warm = await pending?.catch((err: unknown) => {
      this.log.warn('HCS emulator: pre-loading the guest agent failed', { error: String(err) });
      return undefined;
    });
    if (warm === undefined) return undefined;
    if (warm.usable && warm.entry === entry && warm.dieWithParent === dieWithParent) return warm;
    warm.discard();
    return undefined;
  }

  async hostInfo(): Promise<HostInfo> {
    return {
      osBuild: this.options.osBuild ?? EMULATED_OS_BUILD,
      logicalProcessors: hostProcessors(),
      pathFlavour: 'posix',
      arch: process.arch === 'arm64' ? 'arm64' : 'amd64',
    };
  }

  async createComputeSystem(id: string, document: ComputeSystem, opts?: HcsCallOptions): Promise<HcsSystem> {
    const op = 'HcsCreateComputeSystem';
    if (!validId(id)) throw hcsFail(op, HResult.E_INVALIDARG, `a compute system id is required (a non-empty string of at most ${MAX_ID_LENGTH} characters without NUL)`);
    if (opts?.signal?.aborted === true) throw hcsFail(op, HResult.ErrCancelled, 'canceled before it started', id, opts.signal.reason);
    if (registry.has(id) || reserved.has(id)) throw hcsFail(op, HResult.HCS_E_SYSTEM_ALREADY_EXISTS, 'a compute system with this id already exists', id);
    reserved.add(id);
    try {
      const spec = await validateDocument(id, document, hostProcessors());
      const root = emulatorRoot(this.options.root);
      const runtimeId = randomUUID();
      const vmDir = emulatedVmDir(runtimeId, root);
      await mkdir(root, { recursive: true, mode: 0o755 });
      await mkdir(vmDir, { mode: 0o700 });
      await chmod(vmDir, 0o700); // whatever the umask
      for (const sub of ['vsock', 'plan9', 'scsi', 'rootfs']) await mkdir(join(vmDir, sub), { mode: sub === 'rootfs' ? 0o755 : 0o700 });
      const devices = new EmulatedDevices(id, vmDir, spec.scsiControllers, spec.memoryMB, spec.vpmemMaxCount);
      try {
        await devices.applyDocument((spec.document['VirtualMachine'] ?? {}) as Record<string, unknown>);
      } catch (err) {
        await rm(vmDir, { recursive: true, force: true });
        throw err;
      }
      const vm = new EmulatedVm({
        id, runtimeId, root, vmDir, spec, devices,
        ...(this.options.guestEntry === undefined ? {} : { guestEntry: this.options.guestEntry }),
        defaultGuestEntry: this.defaultGuestEntry,
        runcBinary: this.options.runcBinary ?? 'runc',
        log: this.log,
        ownerProcess: await ownerProcess(),
        takeWarmGuest: (entry, dieWithParent) => this.takeWarmGuest(entry, dieWithParent),
      });
      await vm.persist();
      vm.onStopped = () => {
        if (vm.handles === 0 && registry.get(id) === vm) registry.delete(id);
      };
      registry.set(id, vm);
      this.log.info('HCS emulator: created emulated utility VM (no hypervisor: the guest agent will run as a host process)', {
        'uvm-id': id, runtimeId, vmDir, memoryMB: spec.memoryMB, processors: spec.processorCount, boot: spec.boot.kind,
      });
      return new EmulatedSystemHandle(vm, (v) => this.lastHandleClosed(v));
    } finally {
      reserved.delete(id);
    }
  }

  async openComputeSystem(id: string, opts?: HcsCallOptions): Promise<HcsSystem> {
    const op = 'HcsOpenComputeSystem';
    if (opts?.signal?.aborted === true) throw hcsFail(op, HResult.ErrCancelled, 'canceled before it started', id, opts.signal.reason);
    if (!validId(id)) throw hcsFail(op, HResult.E_INVALIDARG, `a compute system id is required (a non-empty string of at most ${MAX_ID_LENGTH} characters without NUL)`);
    const vm = registry.get(id);
    if (vm !== undefined) return new EmulatedSystemHandle(vm, (v) => this.lastHandleClosed(v));
    const found = await this.findForeign(id);
    if (found === undefined) throw hcsFail(op, HResult.ErrComputeSystemDoesNotExist, 'no such compute system in this emulator', id);
    return new ForeignSystemHandle({
      ...found,
      log: this.log,
      defaultTimeoutMs: DEFAULT_STOP_TIMEOUT_MS,
      ...(this.options.runcBinary === undefined ? {} : { runcBinary: this.options.runcBinary }),
    });
  }

  /** Records under the root that this process's registry does not hold (systems of other processes). */
  private async foreignRecords(): Promise<Array<{ vmDir: string; record: SystemRecord }>> {
    const mine = new Set([...registry.values()].map((v) => v.runtimeId));
    return (await scanRecords(emulatorRoot(this.options.root))).filter((r) => !mine.has(r.record.RuntimeId));
  }

  /**
   * The foreign system with this id. Two records can share an id only across processes (HCS ids are
   * machine-wide; the emulator does not enforce that across processes); one whose owner has exited is
   * preferred, as that is the one left for others to clean up.
   */
  private async findForeign(id: string): Promise<{ vmDir: string; record: SystemRecord } | undefined> {
    const matches = (await this.foreignRecords()).filter((r) => r.record.Id === id);
    for (const m of matches) if (!(await isAlive(m.record.OwnerProcess))) return m;
    return matches[0];
  }

  /** Query (optional): `{Ids?: string[], Owners?: string[], SystemType?: string}`. */
  async enumerateComputeSystems(query?: object): Promise<ComputeSystemSummary[]> {
    const q = (query ?? {}) as { Ids?: unknown; Owners?: unknown; SystemType?: unknown };
    const ids = Array.isArray(q.Ids) ? new Set(q.Ids) : undefined;
    const owners = Array.isArray(q.Owners) ? new Set(q.Owners) : undefined;
    const out: ComputeSystemSummary[] = [];
    for (const vm of registry.values()) {
      const p = await vm.properties(undefined);
      if (ids !== undefined && !ids.has(p.Id)) continue;
      if (owners !== undefined && !owners.has(p.Owner)) continue;
      if (typeof q.SystemType === 'string' && q.SystemType !== p.SystemType) continue;
      out.push({
        Id: p.Id,
        ...(p.SystemType === undefined ? {} : { SystemType: p.SystemType }),
        ...(p.Owner === undefined ? {} : { Owner: p.Owner }),
        ...(p.RuntimeId === undefined ? {} : { RuntimeId: p.RuntimeId }),
        ...(p.State === undefined ? {} : { State: p.State }),
      });
    }
    for (const { record: r } of await this.foreignRecords()) {
      if (ids !== undefined && !ids.has(r.Id)) continue;
      if (owners !== undefined && !owners.has(r.Owner)) continue;
      if (typeof q.SystemType === 'string' && q.SystemType !== r.SystemType) continue;
      const { state } = await observeState(r);
      out.push({ Id: r.Id, SystemType: r.SystemType, ...(r.Owner === undefined ? {} : { Owner: r.Owner }), RuntimeId: r.RuntimeId, State: state });
    }
    return out;
  }

  /** HCS semantics: ShouldTerminateOnLastHandleClosed kills the VM; a stopped system is forgotten. */
  private async lastHandleClosed(vm: EmulatedVm): Promise<void> {
    if (vm.terminateOnLastHandleClosed) {
      await vm.terminate().catch((err: unknown) =>
        this.log.error('HCS emulator: terminate on last handle close failed', { 'uvm-id': vm.id, error: String(err) }),
      );
    }
    if (vm.state === 'Stopped' && vm.handles === 0 && registry.get(vm.id) === vm) registry.delete(vm.id);
  }
}

function hostProcessors(): number {
  return Math.max(1, os.cpus().length);
}
