/**
 * SCSI disks of the utility VM (hcsshim internal/uvm/scsi: attach manager + mount manager).
 *   attach  controllers × 64 LUNs, first free slot in controller order; one attachment per (host path,
 *           read-only), reference-counted. Host: `VirtualMachine/Devices/Scsi/<controller key>/Attachments/
 *           <lun>` Add {Path, Type: "VirtualDisk" (or "PassThru" for a host disk), ReadOnly}.
 *   mount   guest `MappedVirtualDisk` Add {MountPath, Controller, Lun, ReadOnly, Options, EnsureFilesystem,
 *           Filesystem}; one mount per (controller, lun, config), reference-counted; without a requested
 *           path it goes to /run/mounts/scsi/m<index> (lowest free index).
 *   release (reverse): the last mount reference sends MappedVirtualDisk Remove {MountPath, Controller,
 *           Lun, ReadOnly}; the last attachment reference unplugs in the guest (SCSIDevice Remove
 *           {Controller, Lun}) and then detaches on the host (Remove, no settings).
 */
import { isDeepStrictEqual } from 'node:util';
import { Mutex } from '../async/index.js';
import { logTeardown, rootLogger, type Logger } from '../log/index.js';
import { omitEmpty, type GuestModifier, type HostModifier } from './device-modify.js';

export const LunsPerController = 64;
export const ScsiGuestPathFormat = (n: number): string => `/run/mounts/scsi/m${n}`;

export class ScsiFullError extends Error {
  override readonly name = 'ScsiFullError';
}

export interface ScsiMountConfig {
  readonly options?: readonly string[];
  readonly ensureFilesystem?: boolean;
  readonly filesystem?: string;
}

export interface ScsiMount {
  readonly controller: number;
  readonly lun: number;
  /** Where the disk is mounted in the guest ('' when attached only). */
  readonly guestPath: string;
  release(): Promise<void>;
}

/** hcsshim's attachment types: a disk image, or a host disk passed through (physical-disk mounts). */
export type ScsiAttachmentType = 'VirtualDisk' | 'PassThru';

interface Attachment {
  readonly hostPath: string;
  readonly type: ScsiAttachmentType;
  readonly readOnly: boolean;
  readonly controller: number;
  readonly lun: number;
  refs: number;
}

interface Mount {
  readonly controller: number;
  readonly lun: number;
  readonly config: { readOnly: boolean; options: string[]; ensureFilesystem: boolean; filesystem: string };
  readonly path: string;
  readonly index: number;
  refs: number;
}

export interface ScsiManagerOptions {
  /** The controllers' keys in the VM document, in order (the guest sees them as 0, 1, …). */
  readonly controllers: readonly string[];
  /** Slots already in use, e.g. the VM's own root disk. */
  readonly reserved?: ReadonlyArray<{ controller: number; lun: number }>;
  readonly host: HostModifier;
  readonly guest: GuestModifier;
  /** Where a failed rollback is logged (default: the root logger). */
  readonly log?: Logger;
}

export class ScsiManager {
  private readonly slots: Array<Array<Attachment | undefined>>;
  private readonly mounts: Array<Mount | undefined> = [];
  private readonly lock = new Mutex();

  constructor(private readonly o: ScsiManagerOptions) {
    this.slots = o.controllers.map(() => new Array<Attachment | undefined>(LunsPerController).fill(undefined));
    for (const r of o.reserved ?? []) {
      const row = this.slots[r.controller];
      if (row && r.lun < LunsPerController) row[r.lun] = { hostPath: '', type: 'VirtualDisk', readOnly: true, controller: r.controller, lun: r.lun, refs: 1 };
    }
  }

  /** Attachments in use (for tests and logs): "c:lun" → host path. */
  get attached(): ReadonlyMap<string, string> {
    const m = new Map<string, string>();
    for (const row of this.slots) for (const a of row) if (a && a.hostPath !== '') m.set(`${a.controller}:${a.lun}`, a.hostPath);
    return m;
  }

  /**
   * Attaches `hostPath` (shared with an earlier identical attachment) and, with `mount`, mounts it in the
   * guest at `guestPath` (or a generated /run/mounts/scsi/m<n>).
   */
  addVirtualDisk(hostPath: string, readOnly: boolean, guestPath?: string, mount?: ScsiMountConfig): Promise<ScsiMount> {
    return this.add('VirtualDisk', hostPath, readOnly, guestPath, mount);
  }

  /** As addVirtualDisk for a host disk passed through to the VM (attachment Type "PassThru"). */
  addPhysicalDisk(hostPath: string, readOnly: boolean, guestPath?: string, mount?: ScsiMountConfig): Promise<ScsiMount> {
    return this.add('PassThru', hostPath, readOnly, guestPath, mount);
  }

  private add(type: ScsiAttachmentType, hostPath: string, readOnly: boolean, guestPath?: string, mount?: ScsiMountConfig): Promise<ScsiMount> {
    return this.lock.run(async () => {
      const att = await this.attach(type, hostPath, readOnly);
      let m: Mount | undefined;
      try {
        if (mount) m = await this.mount(att, guestPath ?? '', readOnly, mount);
      } catch (err) {
        await this.detach(att).catch(logTeardown(this.o.log ?? rootLogger(), 'detaching a SCSI disk whose guest mount failed', { hostPath, controller: att.controller, lun: att.lun }));
        throw err;
      }
      let released = false;
      return {
        controller: att.controller,
        lun: att.lun,
        guestPath: m?.path ?? '',
        release: () => this.lock.run(async () => {
          if (released) return;
          released = true;
          if (m) await this.unmount(m);
          await this.detach(att);
        }),
      };
    });
  }

  private resourcePath(a: { controller: number; lun: number }): string {
    return `VirtualMachine/Devices/Scsi/${this.o.controllers[a.controller]}/Attachments/${a.lun}`;
  }

  private async attach(type: ScsiAttachmentType, hostPath: string, readOnly: boolean): Promise<Attachment> {
    let free: { c: number; l: number } | undefined;
    for (let c = 0; c < this.slots.length; c++) {
      const row = this.slots[c]!;
      for (let l = 0; l < row.length; l++) {
        const a = row[l];
        if (a === undefined) free ??= { c, l };
        else if (a.hostPath === hostPath && a.readOnly === readOnly && a.type === type) {
          a.refs++;
          return a;
        }
      }
    }
    if (free === undefined) throw new ScsiFullError(`no free SCSI slot (${this.slots.length} controller(s) × ${LunsPerController} LUNs)`);
    const att: Attachment = { hostPath, type, readOnly, controller: free.c, lun: free.l, refs: 1 };
    await this.o.host.modify({ ResourcePath: this.resourcePath(att), RequestType: 'Add', Settings: { Path: hostPath, Type: type, ReadOnly: readOnly } });
    this.slots[att.controller]![att.lun] = att;
    return att;
  }

  private async detach(att: Attachment): Promise<void> {
    if (att.refs > 1) {
      att.refs--;
      return;
    }
    await this.o.guest.modifySettings({ ResourceType: 'SCSIDevice', RequestType: 'Remove', Settings: omitEmpty({ Controller: att.controller, Lun: att.lun }) });
    await this.o.host.modify({ ResourcePath: this.resourcePath(att), RequestType: 'Remove' });
    att.refs = 0;
    this.slots[att.controller]![att.lun] = undefined;
  }

  private async mount(att: Attachment, path: string, readOnly: boolean, c: ScsiMountConfig): Promise<Mount> {
    const config = { readOnly, options: [...(c.options ?? [])].sort(), ensureFilesystem: c.ensureFilesystem === true, filesystem: c.filesystem ?? '' };
    let free = -1;
    for (let i = 0; i < this.mounts.length; i++) {
      const m = this.mounts[i];
      if (m === undefined) {
        if (free < 0) free = i;
      } else if (m.controller === att.controller && m.lun === att.lun && isDeepStrictEqual(m.config, config)) {
        m.refs++;
        return m;
      } else if (path !== '' && m.path === path) {
        throw new Error(`cannot mount over an existing mountpoint: ${path}`);
      }
    }
    const index = free < 0 ? this.mounts.length : free;
    const m: Mount = { controller: att.controller, lun: att.lun, config, path: path || ScsiGuestPathFormat(index), index, refs: 1 };
    await this.o.guest.modifySettings({
      ResourceType: 'MappedVirtualDisk',
      RequestType: 'Add',
      Settings: omitEmpty({
        MountPath: m.path, Lun: att.lun, Controller: att.controller, ReadOnly: readOnly, Options: config.options,
        EnsureFilesystem: config.ensureFilesystem, Filesystem: config.filesystem,
      }),
    });
    this.mounts[index] = m;
    return m;
  }

  private async unmount(m: Mount): Promise<void> {
    if (m.refs > 1) {
      m.refs--;
      return;
    }
    await this.o.guest.modifySettings({
      ResourceType: 'MappedVirtualDisk',
      RequestType: 'Remove',
      Settings: omitEmpty({ MountPath: m.path, ReadOnly: m.config.readOnly, Lun: m.lun, Controller: m.controller }),
    });
    m.refs = 0;
    this.mounts[m.index] = undefined;
  }
}
