/**
 * The emulated VM's hot-pluggable devices (HcsModifyComputeSystem), as the emulated-VM contract maps them
 * onto the VM dir, where the guest agent finds them:
 *   VirtualMachine/Devices/Plan9/Shares                        Add/Remove → <vmDir>/plan9/<AccessName|Name>: Path, or a
 *                                                              read-only / single-file view of it (plan9-view.ts)
 *   VirtualMachine/Devices/Scsi/<ctrl>/Attachments/<lun>       Add/Remove → <vmDir>/scsi/<ctrl#>-<lun> → Path, or
 *                                                              → /dev/loopN for a .vhd/.vhdx (disk-attach.ts)
 *   VirtualMachine/Devices/VirtualPMem/Devices/<n>             Add/Remove → <vmDir>/vpmem/<n> → /dev/loopN (read-only)
 *                                                              of HostPath, a .vhd or .vhdx; n < MaximumCount
 *   VirtualMachine/Devices/HvSocket/HvSocketConfig/ServiceTable/<guid>  Add/Update/Remove → recorded
 *   VirtualMachine/ComputeTopology/Memory/SizeInMB             Update → recorded
 *   VirtualMachine/ComputeTopology/Processor/Limits            Update → recorded (Limit 0..100000, Weight 0..10000)
 *   VirtualMachine/ComputeTopology/Processor/CpuGroup          Update → recorded (Id a GUID)
 * Anything else is E_INVALIDARG naming the ResourcePath. <ctrl#> is the controller number the guest sees:
 * a numeric key as is, one of the four well-known controller GUIDs by its index, else the document order.
 */
import { lstat, mkdir, stat, symlink, unlink } from '../../async/index.js';
import { join } from 'node:path';
import { HResult, ignoreAbsent } from '../../errdefs/index.js';
import { logTeardown, rootLogger } from '../../log/index.js';
import { isGuid, normalizeGuid } from '../../guid/index.js';
import { attachDisk, detachDisk, diskKind } from './disk-attach.js';
import { hcsFail } from './hresults.js';
import { addPlan9View, removePlan9View } from './plan9-view.js';

const OP = 'HcsModifyComputeSystem';
const SCSI_CONTROLLER_GUIDS = [
  'df6d0690-79e5-55b6-a5ec-c1e2f77f580a',
  '0110f83b-de10-5172-a266-78bca56bf50a',
  'b5d2d8d4-3a75-51bf-945b-3444dc6b8579',
  '305891a9-b251-5dfe-91a2-c25d9212275b',
];
const MAX_LUN = 63;
const NAME_RE = /^[A-Za-z0-9_.+-]{1,255}$/;

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {});

export interface ModifyRequestLike {
  readonly ResourcePath?: unknown;
  readonly RequestType?: unknown;
  readonly Settings?: unknown;
}

export class EmulatedDevices {
  /** HvSocket service table (service GUID → settings), as recorded from the document and modifies. */
  readonly serviceTable = new Map<string, unknown>();
  /** The processor limits and CPU group of the last Update (none before). */
  processorLimitsValue: { limit: number; weight: number } | undefined;
  cpuGroupId: string | undefined;
  memoryMB: number;

  constructor(
    private readonly systemId: string,
    private readonly vmDir: string,
    private readonly scsiControllers: readonly string[],
    memoryMB: number,
    /** VirtualPMem.MaximumCount of the document (0: no VPMem controller). */
    private readonly vpmemMaxCount = 128,
  ) {
    this.memoryMB = memoryMB;
  }

  /** Applies the devices a create document already carries (shares, attachments, VPMem, service table). */
  async applyDocument(vm: Obj): Promise<void> {
    const devices = obj(vm['Devices']);
    for (const share of asArray(obj(devices['Plan9'])['Shares'])) await this.plan9('Add', share);
    for (const [ctrl, c] of Object.entries(obj(devices['Scsi']))) {
      for (const [lun, att] of Object.entries(obj(obj(c)['Attachments']))) await this.scsi('Add', ctrl, lun, att);
    }
    for (const [n, dev] of Object.entries(obj(obj(devices['VirtualPMem'])['Devices']))) await this.vpmem('Add', n, dev);
    const table = obj(obj(obj(devices['HvSocket'])['HvSocketConfig'])['ServiceTable']);
    for (const [guid, cfg] of Object.entries(table)) if (isGuid(guid)) this.serviceTable.set(normalizeGuid(guid), cfg);
  }

  async modify(req: ModifyRequestLike): Promise<void> {
    const path = req.ResourcePath;
    const type = req.RequestType;
    if (typeof path !== 'string' || path === '') throw this.fail(HResult.E_INVALIDARG, 'ModifySettingRequest.ResourcePath is required');
    if (type !== 'Add' && type !== 'Remove' && type !== 'Update') {
      throw this.fail(HResult.E_INVALIDARG, `RequestType ${JSON.stringify(type ?? null)} for ${path} is not emulated (Add, Remove, Update)`);
    }
    const parts = path.split('/');
    if (path === 'VirtualMachine/Devices/Plan9/Shares') return this.plan9(type, req.Settings);
    if (parts.length === 6 && path.startsWith('VirtualMachine/Devices/Scsi/') && parts[4] === 'Attachments') {
      return this.scsi(type, parts[3] as string, parts[5] as string, req.Settings);
    }
    if (parts.length === 5 && path.startsWith('VirtualMachine/Devices/VirtualPMem/Devices/')) {
      return this.vpmem(type, parts[4] as string, req.Settings);
    }
    if (parts.length === 6 && path.startsWith('VirtualMachine/Devices/HvSocket/HvSocketConfig/ServiceTable/')) {
      return this.service(type, parts[5] as string, req.Settings);
    }
    if (path === 'VirtualMachine/ComputeTopology/Memory/SizeInMB' && type === 'Update') return this.memory(req.Settings);
    if (path === 'VirtualMachine/ComputeTopology/Processor/Limits' && type === 'Update') return this.processorLimits(req.Settings);
    if (path === 'VirtualMachine/ComputeTopology/Processor/CpuGroup' && type === 'Update') return this.cpuGroup(req.Settings);
    throw this.fail(HResult.E_INVALIDARG, `resource ${path} (${type}) is not supported by the emulator`);
  }

  private async plan9(type: string, settings: unknown): Promise<void> {
    const s = obj(settings);
    const name = typeof s['AccessName'] === 'string' && s['AccessName'] !== '' ? s['AccessName'] : s['Name'];
    if (typeof name !== 'string' || !NAME_RE.test(name) || name === '.' || name === '..') {
      throw this.fail(HResult.E_INVALIDARG, `Plan9 share needs a Name/AccessName of [A-Za-z0-9_.+-], got ${JSON.stringify(name ?? null)}`);
    }
    const link = join(this.vmDir, 'plan9', name);
    const fail = (hr: number, message: string, cause?: unknown): Error => this.fail(hr, message, cause);
    if (type === 'Remove') return removePlan9View(link, `Plan9 share ${name}`, fail);
    if (type !== 'Add') throw this.fail(HResult.E_INVALIDARG, `Plan9 shares support Add and Remove, not ${type}`);
    await addPlan9View(link, s, `Plan9 share ${name}`, fail);
  }

  private async scsi(type: string, controller: string, lunText: string, settings: unknown): Promise<void> {
    const index = this.controllerIndex(controller);
    const lun = /^\d+$/.test(lunText) ? Number(lunText) : Number.NaN;
    if (!(lun >= 0 && lun <= MAX_LUN)) throw this.fail(HResult.E_INVALIDARG, `SCSI LUN ${JSON.stringify(lunText)} is outside 0..${MAX_LUN}`);
    const link = join(this.vmDir, 'scsi', `${index}-${lun}`);
    if (type === 'Remove') return this.removeLink(link, `SCSI attachment ${controller}/${lun}`);
    if (type !== 'Add') throw this.fail(HResult.E_INVALIDARG, `SCSI attachments support Add and Remove, not ${type}`);
    const s = obj(settings);
    const kind = s['Type'] ?? 'VirtualDisk';
    if (kind !== 'VirtualDisk' && kind !== 'PassThru' && kind !== 'ExtensibleVirtualDisk') {
      throw this.fail(HResult.E_INVALIDARG, `SCSI attachment Type ${JSON.stringify(kind)} is not emulated`);
    }
    await this.addLink(link, s['Path'], `SCSI attachment ${controller}/${lun}`, s['ReadOnly'] === true);
  }

  private async vpmem(type: string, device: string, settings: unknown): Promise<void> {
    if (!/^\d+$/.test(device) || Number(device) >= Math.min(128, this.vpmemMaxCount)) {
      throw this.fail(HResult.E_INVALIDARG, `VPMem device ${JSON.stringify(device)} is outside 0..${Math.min(128, this.vpmemMaxCount) - 1} (VirtualPMem.MaximumCount)`);
    }
    const link = join(this.vmDir, 'vpmem', String(Number(device)));
    const what = `VPMem device ${device}`;
    if (type === 'Remove') return this.removeLink(link, what);
    if (type !== 'Add') throw this.fail(HResult.E_INVALIDARG, `VPMem devices support Add and Remove, not ${type}`);
    const s = obj(settings);
    const path = s['HostPath'];
    const kind = typeof path === 'string' ? diskKind(path) : undefined;
    const format = s['ImageFormat'] ?? 'Vhd1';
    if (kind === undefined || (format !== 'Vhd1' && format !== 'Vhdx') || (format === 'Vhdx') !== (kind === 'vhdx')) {
      throw this.fail(HResult.E_INVALIDARG, `${what}: HostPath ${JSON.stringify(path ?? null)} with ImageFormat ${JSON.stringify(format)} is not a .vhd (Vhd1) or .vhdx (Vhdx)`);
    }
    await this.addLink(link, path, what, true);
  }

  private service(type: string, guid: string, settings: unknown): void {
    if (!isGuid(guid)) throw this.fail(HResult.E_INVALIDARG, `HvSocket service id ${JSON.stringify(guid)} is not a GUID`);
    const key = normalizeGuid(guid);
    if (type === 'Remove') {
      if (!this.serviceTable.delete(key)) throw this.fail(HResult.ErrElementNotFound, `HvSocket service ${key} is not in the service table`);
      return;
    }
    this.serviceTable.set(key, settings ?? {});
  }

  private memory(settings: unknown): void {
    if (typeof settings !== 'number' || !Number.isInteger(settings) || settings <= 0) {
      throw this.fail(HResult.E_INVALIDARG, `memory SizeInMB must be a positive integer, got ${JSON.stringify(settings ?? null)}`);
    }
    this.memoryMB = settings;
  }

  private processorLimits(settings: unknown): void {
    const s = obj(settings);
    const limit = s['Limit'] ?? 0;
    const weight = s['Weight'] ?? 0;
    const ok = (v: unknown, max: number): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max;
    if (!ok(limit, 100000) || !ok(weight, 10000)) {
      throw this.fail(HResult.E_INVALIDARG, `processor Limits need Limit 0..100000 and Weight 0..10000, got ${JSON.stringify(settings ?? null)}`);
    }
    this.processorLimitsValue = { limit: limit as number, weight: weight as number };
  }

  private cpuGroup(settings: unknown): void {
    const id = obj(settings)['Id'];
    if (typeof id !== 'string' || !isGuid(id)) throw this.fail(HResult.E_INVALIDARG, `CpuGroup Id must be a GUID, got ${JSON.stringify(id ?? null)}`);
    this.cpuGroupId = normalizeGuid(id);
  }

  private controllerIndex(key: string): number {
    if (!this.scsiControllers.includes(key)) {
      throw this.fail(HResult.E_INVALIDARG, `no SCSI controller ${JSON.stringify(key)} in the document (have ${this.scsiControllers.join(', ') || 'none'})`);
    }
    if (/^\d+$/.test(key)) return Number(key);
    const known = SCSI_CONTROLLER_GUIDS.indexOf(key.toLowerCase());
    return known >= 0 ? known : this.scsiControllers.indexOf(key);
  }

  private async addLink(link: string, target: unknown, what: string, readOnly = false): Promise<void> {
    if (typeof target !== 'string' || !target.startsWith('/')) {
      throw this.fail(HResult.E_INVALIDARG, `${what} needs an absolute host path, got ${JSON.stringify(target ?? null)}`);
    }
    const st = await stat(target).catch(ignoreAbsent);
    if (st === undefined) throw this.fail(HResult.ErrFileNotFound, `${what}: host path ${target} not found`);
    if ((await lstat(link).catch(ignoreAbsent)) !== undefined) {
      throw this.fail(HResult.ErrAlreadyExists, `${what} is already attached`);
    }
    await mkdir(join(link, '..'), { recursive: true, mode: 0o700 });
    const kind = st.isFile() ? diskKind(target) : undefined;
    if (kind === undefined) {
      await symlink(target, link);
      return;
    }
    let device: string;
    try {
      device = (await attachDisk(target, kind, readOnly, `${link}.loop.json`)).Device;
    } catch (err) {
      throw this.fail(HResult.E_FAIL, `${what}: cannot attach ${target}: ${(err as Error).message}`, err);
    }
    try {
      await symlink(device, link);
    } catch (err) {
      await detachDisk(`${link}.loop.json`).catch(logTeardown(rootLogger(), 'HCS emulator: detaching the disk of a failed link', { link }));
      throw this.fail(HResult.E_FAIL, `${what}: cannot link ${link}: ${(err as Error).message}`, err);
    }
  }

  private async removeLink(link: string, what: string): Promise<void> {
    try {
      await unlink(link);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw this.fail(HResult.ErrElementNotFound, `${what} is not attached`);
      throw this.fail(HResult.E_FAIL, `${what}: cannot remove ${link}: ${(err as Error).message}`, err);
    }
    try {
      await detachDisk(`${link}.loop.json`);
    } catch (err) {
      throw this.fail(HResult.E_FAIL, `${what}: detaching its loop device failed: ${(err as Error).message}`, err);
    }
  }

  private fail(hr: number, message: string, cause?: unknown): Error {
    return hcsFail(OP, hr, message, this.systemId, cause);
  }
}

const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
