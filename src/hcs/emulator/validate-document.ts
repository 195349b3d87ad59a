/**
 * Checks a compute-system document as HCS would before creating a utility VM, and extracts what the
 * emulator needs. The document is first encoded with toHcsJson and parsed back, so the emulator sees the
 * exact JSON the real service would receive (omitempty applied). Rules, each failing with HCS's code:
 *   not encodable / not an object                  → ErrVmcomputeInvalidJSON (0xC037010D)
 *   SchemaVersion missing or below 2.1             → ErrVmcomputeInvalidJSON
 *   no VirtualMachine                              → E_INVALIDARG (0x80070057)
 *   Memory.SizeInMB missing or not a positive int  → E_INVALIDARG
 *   Processor.Count outside 1..host processors     → E_INVALIDARG (absent = 1)
 *   no boot source (LinuxKernelDirect / Uefi.BootThis VmbFs) → E_INVALIDARG
 *   a boot file (kernel, initrd) missing           → ERROR_FILE_NOT_FOUND (0x80070002)
 *   the VmbFs root folder missing                  → ERROR_PATH_NOT_FOUND (0x80070003)
 *   vNUMA and HvSocket service table               → see validate-topology.ts
 */
import { stat } from '../../async/index.js';
import { join } from 'node:path';
import { HResult, ignoreAbsent } from '../../errdefs/index.js';
import { toHcsJson } from '../schema/index.js';
import { hcsFail } from './hresults.js';
import { validateTopology } from './validate-topology.js';

const OP = 'HcsCreateComputeSystem';

export interface BootSpec {
  readonly kind: 'LinuxKernelDirect' | 'Uefi';
  readonly kernelPath: string;
  readonly initrdPath?: string;
  readonly cmdline: string;
}

export interface VmSpec {
  readonly owner?: string;
  readonly memoryMB: number;
  readonly processorCount: number;
  readonly boot: BootSpec;
  readonly terminateOnLastHandleClosed: boolean;
  /** SCSI controller keys as the document spells them, in document order. */
  readonly scsiControllers: readonly string[];
  /** VirtualPMem.MaximumCount (0 without a VirtualPMem controller). */
  readonly vpmemMaxCount: number;
  /** The document as HCS would have received it (parsed JSON). */
  readonly document: Record<string, unknown>;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const obj = (v: unknown): Obj => (isObj(v) ? v : {});

export async function validateDocument(id: string, document: unknown, hostProcessors: number): Promise<VmSpec> {
  let doc: unknown;
  try {
    doc = JSON.parse(toHcsJson(document));
  } catch (err) {
    throw hcsFail(OP, HResult.ErrVmcomputeInvalidJSON, `invalid compute system document: ${(err as Error).message}`, id, err);
  }
  if (!isObj(doc)) throw hcsFail(OP, HResult.ErrVmcomputeInvalidJSON, 'the document is not a JSON object', id);

  const sv = obj(doc['SchemaVersion']);
  const major = sv['Major'];
  const minor = sv['Minor'] ?? 0;
  if (typeof major !== 'number' || typeof minor !== 'number' || major !== 2 || minor < 1) {
    throw hcsFail(OP, HResult.ErrVmcomputeInvalidJSON, `unsupported SchemaVersion ${JSON.stringify(doc['SchemaVersion'] ?? null)} (want 2.1 or a later 2.x)`, id);
  }
  if (!isObj(doc['VirtualMachine'])) {
    throw hcsFail(OP, HResult.E_INVALIDARG, 'the document has no VirtualMachine (the emulator creates utility VMs only)', id);
  }
  const vm = doc['VirtualMachine'];
  const topo = obj(vm['ComputeTopology']);
  const memoryMB = obj(topo['Memory'])['SizeInMB'];
  if (typeof memoryMB !== 'number' || !Number.isInteger(memoryMB) || memoryMB <= 0) {
    throw hcsFail(OP, HResult.E_INVALIDARG, `VirtualMachine.ComputeTopology.Memory.SizeInMB must be a positive integer, got ${JSON.stringify(memoryMB ?? null)}`, id);
  }
  const count = obj(topo['Processor'])['Count'] ?? 1;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > hostProcessors) {
    throw hcsFail(OP, HResult.E_INVALIDARG, `VirtualMachine.ComputeTopology.Processor.Count ${JSON.stringify(count)} is outside 1..${hostProcessors} (host logical processors)`, id);
  }
  validateTopology(id, vm, count, memoryMB);
  const boot = await bootSpec(id, obj(vm['Chipset']));
  const owner = doc['Owner'];
  return {
    ...(typeof owner === 'string' ? { owner } : {}),
    memoryMB,
    processorCount: count,
    boot,
    terminateOnLastHandleClosed: doc['ShouldTerminateOnLastHandleClosed'] === true,
    scsiControllers: Object.keys(obj(obj(vm['Devices'])['Scsi'])),
    vpmemMaxCount: vpmemMaxCount(obj(obj(vm['Devices'])['VirtualPMem'])),
    document: doc,
  };
}

/** VirtualPMem.MaximumCount: absent controller 0; absent count 0 (HCS then adds no device). */
function vpmemMaxCount(pmem: Obj): number {
  const n = pmem['MaximumCount'];
  return typeof n === 'number' && Number.isInteger(n) && n > 0 ? Math.min(n, 128) : 0;
}

async function bootSpec(id: string, chipset: Obj): Promise<BootSpec> {
  const direct = chipset['LinuxKernelDirect'];
  if (isObj(direct)) {
    const kernel = direct['KernelFilePath'];
    if (typeof kernel !== 'string' || kernel === '') {
      throw hcsFail(OP, HResult.E_INVALIDARG, 'Chipset.LinuxKernelDirect.KernelFilePath is required', id);
    }
    await requireFile(id, kernel, 'kernel (LinuxKernelDirect.KernelFilePath)');
    const initrd = direct['InitRdPath'];
    if (typeof initrd === 'string' && initrd !== '') await requireFile(id, initrd, 'initrd (LinuxKernelDirect.InitRdPath)');
    return {
      kind: 'LinuxKernelDirect',
      kernelPath: kernel,
      ...(typeof initrd === 'string' && initrd !== '' ? { initrdPath: initrd } : {}),
      cmdline: typeof direct['KernelCmdLine'] === 'string' ? direct['KernelCmdLine'] : '',
    };
  }
  const bootThis = obj(obj(chipset['Uefi'])['BootThis']);
  if (Object.keys(bootThis).length > 0) {
    if (bootThis['DeviceType'] !== 'VmbFs') {
      throw hcsFail(OP, HResult.E_INVALIDARG, `Uefi.BootThis.DeviceType ${JSON.stringify(bootThis['DeviceType'] ?? null)} is not emulated (only "VmbFs")`, id);
    }
    const root = bootThis['VmbFsRootPath'];
    const devicePath = bootThis['DevicePath'];
    if (typeof root !== 'string' || root === '' || typeof devicePath !== 'string' || devicePath === '') {
      throw hcsFail(OP, HResult.E_INVALIDARG, 'Uefi.BootThis needs VmbFsRootPath and DevicePath', id);
    }
    const rootStat = await stat(root).catch(ignoreAbsent);
    if (rootStat === undefined || !rootStat.isDirectory()) {
      throw hcsFail(OP, HResult.ErrPathNotFound, `boot folder (Uefi.BootThis.VmbFsRootPath) ${root} not found`, id);
    }
    const inShare = (p: string): string => join(root, p.replaceAll('\\', '/').replace(/^\/+/, ''));
    const kernelPath = inShare(devicePath);
    await requireFile(id, kernelPath, 'kernel (Uefi.BootThis.DevicePath)');
    const cmdline = typeof bootThis['OptionalData'] === 'string' ? bootThis['OptionalData'] : '';
    const initrdArg = /(?:^|\s)initrd=(\S+)/.exec(cmdline)?.[1];
    const initrdPath = initrdArg === undefined ? undefined : inShare(initrdArg);
    if (initrdPath !== undefined) await requireFile(id, initrdPath, 'initrd (initrd= in Uefi.BootThis.OptionalData)');
    return { kind: 'Uefi', kernelPath, ...(initrdPath === undefined ? {} : { initrdPath }), cmdline };
  }
  throw hcsFail(OP, HResult.E_INVALIDARG, 'no boot source: Chipset needs LinuxKernelDirect or Uefi.BootThis', id);
}

async function requireFile(id: string, path: string, what: string): Promise<void> {
  const st = await stat(path).catch(ignoreAbsent);
  if (st === undefined || !st.isFile()) {
    throw hcsFail(OP, HResult.ErrFileNotFound, `${what} ${path} not found`, id);
  }
}
