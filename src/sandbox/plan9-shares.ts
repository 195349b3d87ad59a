import { basename, dirname } from 'node:path';
import { statSync } from 'node:fs';
import type { GuestConnection } from '../gcs/index.js';
import type { ModifySettingRequest } from '../hcs/index.js';
import { invalidArgument } from '../errdefs/index.js';
import { logTeardown, rootLogger, type Logger } from '../log/index.js';

/** The Plan9 (9p over vsock) port HCS serves shares on. */
export const PLAN9_PORT = 564;
/** Plan9 share flags (hcsshim plan9 flags). */
const PLAN9_READONLY = 0x1;
const PLAN9_LINUX_METADATA = 0x4;

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

  /** Shares `hostPath` (a directory) at `guestPath`. */
  async add(hostPath: string, guestPath: string, readonly: boolean): Promise<void> {
    const share: Share = { name: this.nextName(), guestPath, readonly, state: ShareState.HostAdding };
    await this.vm.modify({
      ResourcePath: 'VirtualMachine/Devices/Plan9/Shares',
      RequestType: 'Add',
      Settings: { Name: share.name, AccessName: share.name, Path: hostPath, Port: PLAN9_PORT, Flags: (readonly ? PLAN9_READONLY : 0) | PLAN9_LINUX_METADATA },
    } as ModifySettingRequest);
    share.state = ShareState.HostAdded;
    try {
      await this.gc.modifySettings({
        ResourceType: 'MappedDirectory',
        RequestType: 'Add',
        Settings: { MountPath: guestPath, ShareName: share.name, Port: PLAN9_PORT, ReadOnly: readonly },
      });
    } catch (err) {
      await this.removeHost(share).catch(logTeardown(this.log, 'removing the host share of a failed guest mount', { share: share.name, guestPath }));
      throw err;
    }
    share.state = ShareState.Mounted;
    this.shares.push(share);
  }

  /**
   * A bind mount's source in the guest: directories are shared as they are; a file is reached through a
   * share of its parent directory.
   */
  async addBindSource(hostPath: string, guestDir: string, readonly: boolean): Promise<string> {
    let isDir: boolean;
    try {
      isDir = statSync(hostPath).isDirectory();
    } catch (err) {
      throw invalidArgument(`bind mount source '${hostPath}' does not exist`, err);
    }
    if (isDir) {
      await this.add(hostPath, guestDir, readonly);
      return guestDir;
    }
    await this.add(dirname(hostPath), guestDir, readonly);
    return `${guestDir}/${basename(hostPath)}`;
  }

  private async removeHost(s: Share): Promise<void> {
    await this.vm.modify({
      ResourcePath: 'VirtualMachine/Devices/Plan9/Shares',
      RequestType: 'Remove',
      Settings: { Name: s.name, AccessName: s.name, Port: PLAN9_PORT },
    } as ModifySettingRequest);
    s.state = ShareState.Removed;
  }

  /** Unmounts in the guest, then removes on the host, newest first. Errors are collected, not thrown early. */
  async removeAll(): Promise<void> {
    const errors: unknown[] = [];
    for (const s of [...this.shares].reverse()) {
      if (s.state === ShareState.Mounted) {
        await this.gc
          .modifySettings({ ResourceType: 'MappedDirectory', RequestType: 'Remove', Settings: { MountPath: s.guestPath, ShareName: s.name, Port: PLAN9_PORT, ReadOnly: s.readonly } })
          .catch((e: unknown) => errors.push(e));
        s.state = ShareState.HostAdded;
      }
      if (s.state === ShareState.HostAdded) await this.removeHost(s).catch((e: unknown) => errors.push(e));
    }
    this.shares.length = 0;
    if (errors.length > 0) throw errors[0];
  }
}
