import { Plan9Port, type GuestConnection } from '../gcs/index.js';
import { Plan9ShareFlags, type ModifySettingRequest } from '../hcs/index.js';
import { logTeardown, rootLogger, type Logger } from '../log/index.js';

interface VmModify {
  modify(request: ModifySettingRequest): Promise<void>;
}

/**
 * One share's life (hcsshim's AddPlan9 / RemovePlan9: host side first, then the guest mount; removed in
 * reverse). A failed step leaves the share in the state before it, so release still does what is left.
 *
 *   HostAdding --HCS modify Add ok--> HostAdded --guest MappedDirectory Add ok--> Mounted
 *   HostAdding --fails--> Removed                HostAdded --guest Add fails--> HostRemoving (rollback)
 *   Mounted --guest MappedDirectory Remove--> HostAdded (even when it fails: the error is reported)
 *   HostAdded --HCS modify Remove--> Removed
 */
export enum ShareState {
  HostAdding = 'host-adding',
  HostAdded = 'host-added',
  Mounted = 'mounted',
  Removed = 'removed',
}

interface Share {
  readonly name: string;
  readonly guestPath: string;
  readonly readonly: boolean;
  state: ShareState;
}

/**
 * Share names are unique per utility VM: one allocator per VM, handed to every container's Plan9Shares.
 */
export function shareNameAllocator(): () => string {
  let counter = 0;
  return () => String(counter++);
}

/**
 * The host directories shared into the utility VM for one container (its rootfs and bind-mount sources).
 * Each container of a pod owns its own set, so one container's teardown never unmounts another's.
 */
export class Plan9Shares {
  private readonly shares: Share[] = [];

  constructor(
    private readonly vm: VmModify,
    private readonly gc: GuestConnection,
    private readonly nextName: () => string = shareNameAllocator(),
    private readonly log: Logger = rootLogger(),
  ) {}

  /** The shares and their states, oldest first (for tests and logs). */
  get states(): ReadonlyArray<{ name: string; guestPath: string; state: ShareState }> {
    return this.shares.map((s) => ({ name: s.name, guestPath: s.guestPath, state: s.state }));
  }

  /**
   * Shares `hostPath` (a directory) at `guestPath` (hcsshim AddPlan9). With `onlyFile` the share is restricted
   * to that one file of the directory (RestrictFileAccess + AllowedFiles): nothing else of it is visible.
   */
  async add(hostPath: string, guestPath: string, readonly: boolean, onlyFile?: string): Promise<void> {
    const share: Share = { name: this.nextName(), guestPath, readonly, state: ShareState.HostAdding };
    const flags = Plan9ShareFlags.LinuxMetadata | (readonly ? Plan9ShareFlags.ReadOnly : 0)
      | (onlyFile !== undefined ? Plan9ShareFlags.RestrictFileAccess : 0);
    await this.vm.modify({
      ResourcePath: 'VirtualMachine/Devices/Plan9/Shares',
      RequestType: 'Add',
      Settings: {
        Name: share.name, AccessName: share.name, Path: hostPath, Port: Plan9Port, Flags: flags,
        ...(onlyFile !== undefined ? { AllowedFiles: [onlyFile] } : {}),
      },
    } as ModifySettingRequest);
    share.state = ShareState.HostAdded;
    try {
      await this.gc.modifySettings({
        ResourceType: 'MappedDirectory',
        RequestType: 'Add',
        Settings: { MountPath: guestPath, ShareName: share.name, Port: Plan9Port, ReadOnly: readonly },
      });
    } catch (err) {
      await this.removeHost(share).catch(logTeardown(this.log, 'removing the host share of a failed guest mount', { share: share.name, guestPath }));
      throw err;
    }
    share.state = ShareState.Mounted;
    this.shares.push(share);
  }

  private async removeHost(s: Share): Promise<void> {
    await this.vm.modify({
      ResourcePath: 'VirtualMachine/Devices/Plan9/Shares',
      RequestType: 'Remove',
      Settings: { Name: s.name, AccessName: s.name, Port: Plan9Port },
    } as ModifySettingRequest);
    s.state = ShareState.Removed;
  }

  /** Unmounts in the guest, then removes on the host, newest first. Errors are collected, not thrown early. */
  async removeAll(): Promise<void> {
    const errors: unknown[] = [];
    for (const s of [...this.shares].reverse()) {
      if (s.state === ShareState.Mounted) {
        await this.gc
          .modifySettings({ ResourceType: 'MappedDirectory', RequestType: 'Remove', Settings: { MountPath: s.guestPath, ShareName: s.name, Port: Plan9Port, ReadOnly: s.readonly } })
          .catch((e: unknown) => errors.push(e));
        s.state = ShareState.HostAdded;
      }
      if (s.state === ShareState.HostAdded) await this.removeHost(s).catch((e: unknown) => errors.push(e));
    }
    this.shares.length = 0;
    if (errors.length > 0) throw errors[0];
  }
}
