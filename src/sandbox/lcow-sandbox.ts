import { realpathSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { handledElsewhere } from '../async/index.js';
import { invalidArgument, notFound } from '../errdefs/index.js';
import { connectGuest, containerConfig, type GuestConnection } from '../gcs/index.js';
import { createHcsApi, hcsBackendName, type HcsApi, type ModifySettingRequest } from '../hcs/index.js';
import { alreadyExists, failedPrecondition } from '../errdefs/index.js';
import { Field, logTeardown, type Logger } from '../log/index.js';
import type { Transport } from '../transport/index.js';
import {
  LinuxBootFilesDir, PreferredRootFSType, ScsiManager, VPMemManager, createLCOW, localHostFacts, newDefaultOptionsLCOW,
  normalizeMemorySize, updateBootFilesPath, type OptionsLCOW, type ScsiMount, type UtilityVM,
} from '../uvm/index.js';
import { Annotation, uvmOptionsFromAnnotations } from './annotations.js';
import { GuestAnnotation, annotationBool, gcsCommandLineExtras } from './guest-annotations.js';
import type {
  GuestContainer, GuestProcess, HostProcessRequest, LcowLayers, Sandbox, SandboxFactory, SandboxRequest, VmResources,
} from './types.js';
import { LcowContainer, guestProcess } from './lcow-container.js';
import { mountLcowLayers, type LayerDevices } from './lcow-layers.js';
import { Plan9Shares, shareNameAllocator } from './plan9-shares.js';
import { planMount, type OciMount } from './container-mounts.js';
import { guestSpecFor } from './pod-role.js';
import { lcowGuestSpec } from './guest-spec.js';
import { uvmProcessParameters } from './vm-command.js';

/** The shim's real path (through symlinks, e.g. an installed link): its boot files sit beside it. */
function shimExecutable(): string {
  const argv1 = process.argv[1] ?? process.execPath;
  try {
    return realpathSync(argv1);
  } catch {
    return argv1;
  }
}

const MIB = 1024 * 1024;
/** hcsshim resourcepaths of a VM's compute topology. */
const VmResourcePath = {
  MemorySizeInMB: 'VirtualMachine/ComputeTopology/Memory/SizeInMB',
  ProcessorLimits: 'VirtualMachine/ComputeTopology/Processor/Limits',
  CpuGroup: 'VirtualMachine/ComputeTopology/Processor/CpuGroup',
} as const;

/** Where the guest keeps a container's bundle (hcsshim: /run/gcs/c/<id>). */
const guestBundle = (id: string): string => `/run/gcs/c/${id}`;

/**
 * A utility VM with its GCS connection and the containers created in it: one standalone task's, or a
 * pod's (the pause container and its workloads: hcsshim's pod, one VM per pod). Each container owns the
 * Plan9 shares made for it; share names are unique per VM.
 */
class LcowSandbox implements Sandbox {
  private closing: Promise<void> | undefined;
  private readonly nextShareName = shareNameAllocator();
  /** Shares made by DiagShare (not any container's): released when the VM closes. */
  private diagShares: Plan9Shares | undefined;
  /** Containers created in the VM and not yet shut down. */
  private readonly containers = new Set<string>();
  /** The VM's VPMem and SCSI devices, shared by its containers (hcsshim keeps these on the UtilityVM). */
  readonly devices: LayerDevices;

  constructor(
    private readonly vm: UtilityVM,
    private readonly gc: GuestConnection,
    private readonly log: Logger,
    opts: OptionsLCOW,
    /** fileshares.disablewritable: no writable Plan9 share but the container's own rootfs. */
    private readonly noWritableFileShares = false,
  ) {
    const vhdRoot = opts.PreferredRootFSType === PreferredRootFSType.VHD;
    this.devices = {
      vpmem: opts.VPMemDeviceCount > 0
        ? new VPMemManager({ count: opts.VPMemDeviceCount, maxSizeBytes: opts.VPMemSizeBytes, reserved: vhdRoot ? [0] : [], host: vm, guest: gc, log })
        : undefined,
      scsi: new ScsiManager({
        controllers: opts.SCSIControllerCount > 0 ? ['0'] : [],
        reserved: vhdRoot && opts.VPMemDeviceCount === 0 ? [{ controller: 0, lun: 0 }] : [],
        host: vm,
        guest: gc,
        log,
      }),
      guest: gc,
      physicallyBacked: opts.FullyPhysicallyBacked,
    };
  }

  /** hcsshim AddPlan9: a writable share is denied when the VM has NoWritableFileShares. */
  private checkWritable(hostPath: string, readOnly: boolean): void {
    if (!readOnly && this.noWritableFileShares) {
      throw failedPrecondition(`adding writable shares is denied (${GuestAnnotation.DisableWritableFileShares}): ${hostPath}`);
    }
  }

  get id(): string {
    return this.vm.id;
  }

  get processorCount(): number {
    return this.vm.processorCount;
  }

  get signalProcessSupported(): boolean {
    return this.gc.guestCapabilities.SignalProcessSupported;
  }

  /** A process in the VM itself, as hcsshim's ExecInUvm for LCOW (vm-command.ts uvmProcessParameters). */
  async execInHost(req: HostProcessRequest): Promise<GuestProcess> {
    if (req.args.length === 0) throw invalidArgument('exec in the utility VM: missing command');
    return guestProcess(await this.gc.createProcess(uvmProcessParameters(req)));
  }

  /** The guest's stacks when it advertises DumpStacksSupported (else "", as hcsshim). */
  async dumpStacks(): Promise<string> {
    if (!this.gc.guestCapabilities.DumpStacksSupported) return '';
    return this.gc.dumpStacks();
  }

  async update(r: VmResources, annotations: Readonly<Record<string, string>>): Promise<void> {
    if (r.memoryLimitBytes !== undefined) {
      const requested = Math.floor(r.memoryLimitBytes / MIB);
      if (requested < 1) throw invalidArgument(`update: memory limit ${r.memoryLimitBytes} bytes is less than 1 MB`);
      const mb = normalizeMemorySize(requested).value;
      await this.vm.modify({ ResourcePath: VmResourcePath.MemorySizeInMB, RequestType: 'Update', Settings: mb } as ModifySettingRequest);
      await this.gc.modifySettings({ ResourceType: 'PodCgroupMemoryLimit', RequestType: 'Update' });
    }
    if (r.processorLimit !== undefined || r.processorWeight !== undefined) {
      const Settings = { Limit: r.processorLimit ?? 0, Weight: r.processorWeight ?? 0 };
      await this.vm.modify({ ResourcePath: VmResourcePath.ProcessorLimits, RequestType: 'Update', Settings } as ModifySettingRequest);
    }
    const group = annotations[Annotation.CPUGroupID];
    if (group !== undefined) {
      if (group === '') throw invalidArgument(`update: ${Annotation.CPUGroupID} must name a CPU group`);
      await this.vm.modify({ ResourcePath: VmResourcePath.CpuGroup, RequestType: 'Update', Settings: { Id: group } } as ModifySettingRequest);
    }
  }

  /**
   * hcsshim's UtilityVM.Share for LCOW: a directory is shared as is, a file through its directory restricted to
   * that file (RestrictFileAccess + AllowedFiles: nothing else of the directory is visible in the VM).
   */
  async share(hostPath: string, uvmPath: string, readOnly: boolean): Promise<void> {
    if (!isAbsolute(hostPath)) throw invalidArgument(`share: host path '${hostPath}' is not absolute`);
    if (!uvmPath.startsWith('/')) throw invalidArgument(`share: utility VM path '${uvmPath}' is not absolute`);
    let isDir: boolean;
    try {
      isDir = statSync(hostPath).isDirectory();
    } catch (err) {
      throw notFound(`share: host path '${hostPath}' does not exist`, err);
    }
    this.checkWritable(hostPath, readOnly);
    this.diagShares ??= new Plan9Shares(this.vm, this.gc, this.nextShareName, this.log);
    if (isDir) await this.diagShares.add(hostPath, uvmPath, readOnly);
    else await this.diagShares.add(dirname(hostPath), uvmPath, readOnly, basename(hostPath));
  }

  /**
   * Mounts the container's rootfs in the VM (the image's LCOW layers + scratch, or a Plan9 share of the
   * host rootfs spec.root.path), makes every host mount source reachable in the VM (container-mounts.ts:
   * Plan9 shares at /run/gcs/c/<id>/mounts/m<i>, SCSI disks), rewrites the spec to guest paths and creates
   * the container through the GCS. The rootfs share is writable even for root.readonly: runc makes
   * the container's root read-only, as over the writable overlay of real LCOW (a read-only share would stop
   * runc creating mount points such as CRI's /etc/resolv.conf). Release (at shutdown, before
   * DeleteContainerState), the reverse of acquire: the disks (newest first), the shares (newest first, the
   * rootfs share last), then the layers.
   */
  async createContainer(id: string, spec: Record<string, unknown>, layers?: LcowLayers): Promise<GuestContainer> {
    if (this.containers.has(id)) throw alreadyExists(`container ${id} already exists in utility VM ${this.id}`);
    if (this.closing) throw failedPrecondition(`utility VM ${this.id} is closing: cannot create container ${id}`);
    this.containers.add(id);
    const shares = new Plan9Shares(this.vm, this.gc, this.nextShareName, this.log);
    const disks: ScsiMount[] = [];
    let releaseLayers = async (): Promise<void> => undefined;
    const release = async (): Promise<void> => {
      let first: unknown;
      for (const d of disks.splice(0).reverse()) await d.release().catch((e: unknown) => (first ??= e));
      await shares.removeAll().catch((e: unknown) => (first ??= e));
      await releaseLayers().catch((e: unknown) => (first ??= e));
      if (first !== undefined) throw first;
    };
    try {
      const root = (spec.root ?? {}) as { path?: string; readonly?: boolean };
      const bundle = guestBundle(id);
      const rootfs = `${bundle}/rootfs`;
      const rawMounts = spec.mounts ?? [];
      if (!Array.isArray(rawMounts)) throw invalidArgument('spec.mounts must be an array');
      const plans = (rawMounts as OciMount[]).map((m, i) => planMount(m, i, bundle)); // all checked before anything is added
      let scratchDir: string | undefined;
      if (layers) {
        const mounted = await mountLcowLayers(this.devices, id, layers, bundle, this.log);
        scratchDir = mounted.scratchDir;
        releaseLayers = () => mounted.release();
      } else {
        await shares.add(root.path ?? '', rootfs, false);
      }
      const mounts: Array<Record<string, unknown>> = [];
      for (const [i, m] of (rawMounts as Array<Record<string, unknown>>).entries()) {
        const plan = plans[i] ?? { kind: 'as-is' };
        if (plan.kind === 'plan9') {
          this.checkWritable(String(m.source), plan.readOnly);
          await shares.add(plan.hostDir, plan.guestPath, plan.readOnly, plan.file);
          mounts.push({ ...m, source: plan.file === undefined ? plan.guestPath : `${plan.guestPath}/${plan.file}` });
        } else if (plan.kind === 'disk') {
          const config = { options: plan.options };
          const disk = plan.passThru
            ? await this.devices.scsi.addPhysicalDisk(plan.hostPath, plan.readOnly, undefined, config)
            : await this.devices.scsi.addVirtualDisk(plan.hostPath, plan.readOnly, undefined, config);
          disks.push(disk);
          mounts.push({ ...m, type: 'none', source: disk.guestPath });
        } else mounts.push(m);
      }
      const guestSpec = guestSpecFor(lcowGuestSpec({ ...spec, root: { ...root, path: rootfs }, mounts }));
      const c = await this.gc.createContainer(id, containerConfig(id, guestSpec, scratchDir));
      return new LcowContainer(c, this.gc, this.log, async () => {
        try {
          await release();
        } finally {
          this.containers.delete(id);
        }
      });
    } catch (err) {
      await release().catch((e: Error) => this.log.warn('releasing the rootfs, shares and disks of a failed create', { error: e.message }));
      this.containers.delete(id);
      throw err;
    }
  }

  waitExit(): Promise<void> {
    return this.vm.waitExit().then(() => undefined);
  }

  /**
   * hcsshim's order (uvm.CloseCtx): terminate the VM and wait for it, THEN close the GCS connection. Closed
   * first, the bridge's EOF reaches a GCS that is still running: the real one (hcsshim < v0.15) logs a fatal
   * "failed to serve gcs service" and exits, our guest logs the same and starts stopping its containers, in
   * the milliseconds before the VM is terminated anyway.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.diagShares?.removeAll().catch((e: Error) => this.log.warn('releasing the diagnostic shares', { error: e.message }));
      try {
        await this.vm.close();
      } finally {
        this.gc.close();
      }
    })();
    return this.closing;
  }
}

export interface SandboxFactoryOptions {
  readonly log: Logger;
  readonly debug: boolean;
  /** The platform's transport (entry.ts chooses it once): the VM's hvsocket listeners. */
  readonly transport: Transport;
  /** Injected for tests; default: the platform's HCS backend, created once. */
  readonly hcs?: () => Promise<HcsApi>;
}

/**
 * With the Linux emulator, its HCS backend is made with the factory (when `serve` starts) and pre-loads the
 * guest agent of the default boot files (LinuxBootFiles beside the shim, as the default options find them),
 * so the agent's Node start overlaps serving the task API and Create; the VM still boots only at Start
 * (src/hcs/emulator/warm-guest.ts). Other backends are made at the first Create, as before (computecore
 * loads koffi and computecore.dll: nothing is loaded early on Windows).
 */
function emulatorWithWarmGuest(): Promise<HcsApi> | undefined {
  if (hcsBackendName() !== 'emulator') return undefined;
  const api = createHcsApi({ emulator: { warmBootFiles: join(dirname(shimExecutable()), LinuxBootFilesDir) } });
  handledElsewhere(api); // the first Create awaits it and reports a failure
  return api;
}

/**
 * Creates LCOW sandboxes: CreateLCOW with the VM id `<task id>@vm`, options from the defaults, the runtime
 * options and the io.microsoft.virtualmachine.* annotations; then start (entropy, logs, GCS handshake).
 */
export function createLcowSandboxFactory(o: SandboxFactoryOptions): SandboxFactory {
  let hcs: Promise<HcsApi> | undefined = o.hcs === undefined ? emulatorWithWarmGuest() : undefined;
  const transport = o.transport;
  return async (req: SandboxRequest): Promise<Sandbox> => {
    hcs ??= o.hcs ? o.hcs() : createHcsApi();
    const api = await hcs;
    const facts = localHostFacts(await api.hostInfo(), { executablePath: shimExecutable() });
    const level = req.options.logLevel ?? (o.debug || req.options.debug ? 'debug' : 'info');
    const opts: OptionsLCOW = newDefaultOptionsLCOW(`${req.taskId}@vm`, '', facts, level);
    const fromAnnotations = uvmOptionsFromAnnotations(req.annotations);
    Object.assign(opts, fromAnnotations);
    if (fromAnnotations.BootFilesPath !== undefined) updateBootFilesPath(opts, fromAnnotations.BootFilesPath, facts);
    // hcsshim CreateLCOW: extra exec args, -disable-time-sync, then -scrub-logs=false (only when set so:
    // the GCS scrubs by default), and -core-dump-location last.
    opts.ExecCommandLine += gcsCommandLineExtras(req.annotations, req.options.scrubLogs === false);
    const log = req.log.child({ [Field.UvmId]: opts.ID });
    if (api.backend === 'emulator') log.info('HCS backend: emulator (no Hyper-V on this host; the utility VM is emulated)');
    const noWritableFileShares = annotationBool(req.annotations, GuestAnnotation.DisableWritableFileShares) === true;
    const vm = await createLCOW(opts, { hcs: api, transport, log });
    try {
      const gc = await vm.start({
        onGcsConnection: (conn, signal) => connectGuest({ conn, ioListen: (port) => vm.listenVsock(port), log, signal }),
      });
      if (gc === undefined) throw new Error(`utility VM ${vm.id} started without a GCS connection`);
      return new LcowSandbox(vm, gc, log, opts, noWritableFileShares);
    } catch (err) {
      await vm.close().catch(logTeardown(log, 'closing the utility VM of a failed start', { [Field.UvmId]: vm.id }));
      throw err;
    }
  };
}
