/**
 * The parts of a utility VM's document HCS checks beyond size and boot (validate-document.ts):
 *   ComputeTopology.Numa.Settings: per-node processors / memory blocks that do not add up to
 *     Processor.Count / Memory.SizeInMB, a node without memory, a duplicated virtual node, a physical
 *     node >= 64 (other than the wildcard 255), wildcard and non-wildcard nodes mixed, a VirtualNodeCount
 *     other than the number of settings, or vNUMA on virtually backed memory (AllowOvercommit) → E_INVALIDARG
 *   HvSocketConfig.ServiceTable: a key that is not a GUID, a security descriptor that is not an SDDL
 *     DACL string ("D:" then flags and ACEs), a non-boolean AllowWildcardBinds/Disabled → E_INVALIDARG
 * HCS's exact codes for these were not observed on a real host; E_INVALIDARG is what it returns for the
 * other malformed topology fields.
 */
import { HResult } from '../../errdefs/index.js';
import { isGuid } from '../../guid/index.js';
import { hcsFail } from './hresults.js';

const OP = 'HcsCreateComputeSystem';
type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const obj = (v: unknown): Obj => (isObj(v) ? v : {});
const u = (v: unknown): number => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : v === undefined ? 0 : NaN);

/** An SDDL string with a DACL and nothing else: `D:` [P|AI|AR…] then `(ace)` groups. */
const SDDL_DACL = /^D:(?:P|AI|AR|NO_ACCESS_CONTROL)*(?:\([^()]*\))*$/;

export function validateTopology(id: string, vm: Obj, processorCount: number, memoryMB: number): void {
  const fail = (msg: string): Error => hcsFail(OP, HResult.E_INVALIDARG, msg, id);
  const topo = obj(vm['ComputeTopology']);
  const numa = topo['Numa'];
  if (numa !== undefined) {
    if (obj(topo['Memory'])['AllowOvercommit'] === true) throw fail('ComputeTopology.Numa needs physically backed memory (AllowOvercommit is true)');
    const settings = obj(numa)['Settings'] ?? [];
    if (!Array.isArray(settings)) throw fail('ComputeTopology.Numa.Settings is not an array');
    const count = obj(numa)['VirtualNodeCount'];
    if (settings.length > 0 && u(count) !== settings.length) throw fail(`ComputeTopology.Numa.VirtualNodeCount ${JSON.stringify(count ?? 0)} but ${settings.length} Settings`);
    const seen = new Set<number>();
    let cpus = 0;
    let mem = 0;
    let wildcard: boolean | undefined;
    for (const [i, raw] of settings.entries()) {
      const s = obj(raw);
      const [vn, pn, c, m] = [u(s['VirtualNodeNumber']), u(s['PhysicalNodeNumber']), u(s['CountOfProcessors']), u(s['CountOfMemoryBlocks'])];
      if ([vn, pn, c, m].some(Number.isNaN)) throw fail(`ComputeTopology.Numa.Settings[${i}] has a non-integer field`);
      if (pn !== 0xff && pn >= 64) throw fail(`ComputeTopology.Numa.Settings[${i}].PhysicalNodeNumber ${pn} is out of range`);
      if (wildcard !== undefined && wildcard !== (pn === 0xff)) throw fail('ComputeTopology.Numa mixes wildcard and fixed physical nodes');
      wildcard = pn === 0xff;
      if (m === 0) throw fail(`ComputeTopology.Numa.Settings[${i}] has no memory`);
      if (seen.has(vn)) throw fail(`ComputeTopology.Numa virtual node ${vn} is duplicated`);
      seen.add(vn);
      cpus += c;
      mem += m;
    }
    if (settings.length > 0 && cpus !== processorCount) throw fail(`ComputeTopology.Numa: ${cpus} processors in the nodes, Processor.Count is ${processorCount}`);
    if (settings.length > 0 && mem !== memoryMB) throw fail(`ComputeTopology.Numa: ${mem} MB in the nodes, Memory.SizeInMB is ${memoryMB}`);
  }
  const config = obj(obj(obj(vm['Devices'])['HvSocket'])['HvSocketConfig']);
  for (const key of ['DefaultBindSecurityDescriptor', 'DefaultConnectSecurityDescriptor']) {
    const v = config[key];
    if (v !== undefined && (typeof v !== 'string' || !SDDL_DACL.test(v))) throw fail(`HvSocketConfig.${key} ${JSON.stringify(v)} is not an SDDL DACL`);
  }
  for (const [guid, raw] of Object.entries(obj(config['ServiceTable']))) {
    if (!isGuid(guid)) throw fail(`HvSocketConfig.ServiceTable key ${JSON.stringify(guid)} is not a GUID`);
    const entry = obj(raw);
    for (const key of ['BindSecurityDescriptor', 'ConnectSecurityDescriptor']) {
      const v = entry[key];
      if (v !== undefined && (typeof v !== 'string' || !SDDL_DACL.test(v))) throw fail(`HvSocketConfig.ServiceTable[${guid}].${key} ${JSON.stringify(v)} is not an SDDL DACL`);
    }
    for (const key of ['AllowWildcardBinds', 'Disabled']) {
      if (entry[key] !== undefined && typeof entry[key] !== 'boolean') throw fail(`HvSocketConfig.ServiceTable[${guid}].${key} is not a boolean`);
    }
  }
}
