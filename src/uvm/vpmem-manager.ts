/**
 * Read-only layers on VPMem devices (hcsshim internal/uvm/vpmem.go, default mode without multi-mapping):
 * one device per distinct host file, reference-counted by host path; device n is
 * `VirtualMachine/Devices/VirtualPMem/Devices/<n>` ({HostPath, ReadOnly: true, ImageFormat: "Vhd1"}) on
 * the host and `VPMemDevice` ({DeviceNumber, MountPath: /run/layers/p<n>}) in the guest. The lowest free
 * slot is used; a full table is VPMemFullError and a file over the device size VPMemTooLargeError, on
 * which callers fall back to SCSI. Release: the last reference removes guest mount, then the device.
 */
import { Mutex, stat } from '../async/index.js';
import type { ModifySettingRequest } from '../hcs/index.js';
import { rootLogger, type Logger } from '../log/index.js';
import { addWithGuest, omitEmpty, type GuestModifier, type HostModifier } from './device-modify.js';

export const VPMemGuestPathFormat = (n: number): string => `/run/layers/p${n}`;

export class VPMemFullError extends Error {
  override readonly name = 'VPMemFullError';
}
export class VPMemTooLargeError extends Error {
  override readonly name = 'VPMemTooLargeError';
}

export interface VPMemMount {
  readonly guestPath: string;
  readonly deviceNumber: number;
  /** Drops this reference; the last one detaches the device. */
  release(): Promise<void>;
}

interface Slot {
  readonly hostPath: string;
  readonly guestPath: string;
  refs: number;
}

export interface VPMemManagerOptions {
  /** VPMemDeviceCount of the VM (0: no VPMem). */
  readonly count: number;
  /** VPMemSizeBytes: the largest file a device takes. */
  readonly maxSizeBytes: number;
  /** Device numbers already in use (0 when the VM's own root filesystem is a VHD on VPMem). */
  readonly reserved?: readonly number[];
  readonly host: HostModifier;
  readonly guest: GuestModifier;
  /** Where a failed rollback is logged (default: the root logger). */
  readonly log?: Logger;
}

const resourcePath = (n: number): string => `VirtualMachine/Devices/VirtualPMem/Devices/${n}`;

export class VPMemManager {
  private readonly slots: Array<Slot | undefined>;
  private readonly lock = new Mutex();

  constructor(private readonly o: VPMemManagerOptions) {
    this.slots = new Array<Slot | undefined>(Math.max(0, o.count)).fill(undefined);
    for (const r of o.reserved ?? []) if (r < this.slots.length) this.slots[r] = { hostPath: '', guestPath: '', refs: 1 };
  }

  /** Devices in use (for tests and logs): device number → host path. */
  get attached(): ReadonlyMap<number, string> {
    const m = new Map<number, string>();
    this.slots.forEach((s, i) => s && s.hostPath !== '' && m.set(i, s.hostPath));
    return m;
  }

  add(hostPath: string): Promise<VPMemMount> {
    return this.lock.run(async () => {
      const existing = this.slots.findIndex((s) => s?.hostPath === hostPath);
      if (existing >= 0) {
        const s = this.slots[existing]!;
        s.refs++;
        return this.mount(existing, s);
      }
      const size = (await stat(hostPath)).size;
      if (size > this.o.maxSizeBytes) throw new VPMemTooLargeError(`${hostPath} (${size} bytes) is larger than a VPMem device (${this.o.maxSizeBytes} bytes)`);
      const n = this.slots.findIndex((s) => s === undefined);
      if (n < 0) throw new VPMemFullError(`no free VPMem device (${this.slots.length} in use)`);
      const guestPath = VPMemGuestPathFormat(n);
      const add: ModifySettingRequest = { ResourcePath: resourcePath(n), RequestType: 'Add', Settings: { HostPath: hostPath, ReadOnly: true, ImageFormat: 'Vhd1' } };
      await addWithGuest(this.o.host, this.o.guest, add,
        { ResourceType: 'VPMemDevice', RequestType: 'Add', Settings: omitEmpty({ DeviceNumber: n, MountPath: guestPath }) },
        { ResourcePath: resourcePath(n), RequestType: 'Remove' }, this.o.log ?? rootLogger());
      const slot: Slot = { hostPath, guestPath, refs: 1 };
      this.slots[n] = slot;
      return this.mount(n, slot);
    });
  }

  private mount(n: number, slot: Slot): VPMemMount {
    let released = false;
    return {
      guestPath: slot.guestPath,
      deviceNumber: n,
      release: () => this.lock.run(async () => {
        if (released) return;
        released = true;
        if (--slot.refs > 0) return;
        try {
          await this.o.guest.modifySettings({ ResourceType: 'VPMemDevice', RequestType: 'Remove', Settings: omitEmpty({ DeviceNumber: n, MountPath: slot.guestPath }) });
          await this.o.host.modify({ ResourcePath: resourcePath(n), RequestType: 'Remove' });
        } catch (err) {
          slot.refs++; // still attached: a later release may retry
          released = false;
          throw err;
        }
        this.slots[n] = undefined;
      }),
    };
  }
}
