import { basename, dirname } from 'node:path';
import { statSync } from 'node:fs';
import type { GuestConnection } from '../gcs/index.js';
import type { ModifySettingRequest } from '../hcs/index.js';
import { invalidArgument } from '../errdefs/index.js';

/** The Plan9 (9p over vsock) port HCS serves shares on. */
export const PLAN9_PORT = 564;
/** Plan9 share flags (hcsshim plan9 flags). */
const PLAN9_READONLY = 0x1;
const PLAN9_LINUX_METADATA = 0x4;

interface VmModify {
  modify(request: ModifySettingRequest): Promise<void>;
}

/**
 * Host directories shared into the utility VM (hcsshim's AddPlan9): host side first (an HCS modify of
 * VirtualMachine/Devices/Plan9/Shares), then guest side (a MappedDirectory mount); removed in reverse.
 */
export class Plan9Shares {
  private counter = 0;
  private readonly added: Array<{ name: string; guestPath: string; readonly: boolean }> = [];

  constructor(
    private readonly vm: VmModify,
    private readonly gc: GuestConnection,
  ) {}

  /** Shares `hostPath` (a directory) at `guestPath`. */
  async add(hostPath: string, guestPath: string, readonly: boolean): Promise<void> {
    const name = String(this.counter++);
    await this.vm.modify({
      ResourcePath: 'VirtualMachine/Devices/Plan9/Shares',
      RequestType: 'Add',
      Settings: { Name: name, AccessName: name, Path: hostPath, Port: PLAN9_PORT, Flags: (readonly ? PLAN9_READONLY : 0) | PLAN9_LINUX_METADATA },
    } as ModifySettingRequest);
    try {
      await this.gc.modifySettings({
        ResourceType: 'MappedDirectory',
        RequestType: 'Add',
        Settings: { MountPath: guestPath, ShareName: name, Port: PLAN9_PORT, ReadOnly: readonly },
      });
    } catch (err) {
      await this.removeHost(name).catch(() => undefined);
      throw err;
    }
    this.added.push({ name, guestPath, readonly });
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

  private async removeHost(name: string): Promise<void> {
    await this.vm.modify({
      ResourcePath: 'VirtualMachine/Devices/Plan9/Shares',
      RequestType: 'Remove',
      Settings: { Name: name, AccessName: name, Port: PLAN9_PORT },
    } as ModifySettingRequest);
  }

  /** Unmounts in the guest, then removes on the host, newest first. Errors are collected, not thrown early. */
  async removeAll(): Promise<void> {
    const errors: unknown[] = [];
    for (const s of this.added.reverse()) {
      await this.gc
        .modifySettings({ ResourceType: 'MappedDirectory', RequestType: 'Remove', Settings: { MountPath: s.guestPath, ShareName: s.name, Port: PLAN9_PORT, ReadOnly: s.readonly } })
        .catch((e: unknown) => errors.push(e));
      await this.removeHost(s.name).catch((e: unknown) => errors.push(e));
    }
    this.added.length = 0;
    if (errors.length > 0) throw errors[0];
  }
}
