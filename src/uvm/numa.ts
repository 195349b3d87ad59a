import { invalidArgument } from '../errdefs/index.js';
import type { OptionsLCOW } from './options.js';

/** Windows Server 2025 (25H1 server, build 26100): the first build with vNUMA for utility VMs (hcsshim). */
export const VNumaMinBuild = 26100;
/** The wildcard physical node (HCS picks the node). */
export const WildcardPhysicalNode = 0xff;
const PhysicalNodeCountMax = 64;
const VirtualNodeNumberMax = 64;

/** What goes into ComputeTopology: `Numa`, `Processor.NumaProcessorsSettings` and `Memory.SlitType`. */
export interface VNumaTopology {
  readonly numa?: Record<string, unknown>;
  readonly numaProcessors?: Record<string, unknown>;
}

const bad = (msg: string): Error => invalidArgument(`vNUMA: ${msg}`);

/**
 * hcsshim's PrepareVNumaTopology + ValidateNumaForVM. Implicit topology (MaxProcessorsPerNumaNode > 0,
 * with MaxMemorySizePerNumaNode): HCS lays the nodes out (`Numa.MaxSizePerNode`,
 * `NumaProcessorsSettings.count_per_node.max`). Explicit topology (NumaMappedPhysicalNodes, with one
 * processor count and one memory-block count per node): `Numa.Settings`, whose totals must equal the VM's
 * processor count and memory. Either needs build >= 26100 and physically backed memory. Neither set:
 * no topology (partial settings are ignored, as hcsshim, which only warns).
 */
export function vNumaTopology(opts: OptionsLCOW, osBuild: number, processorCount: number, memoryMB: number): VNumaTopology {
  if (opts.MaxProcessorsPerNumaNode === 0 && opts.NumaMappedPhysicalNodes.length === 0) return {};
  if (osBuild < VNumaMinBuild) throw bad(`not supported on Windows build ${osBuild} (needs ${VNumaMinBuild})`);
  const preferred = opts.PreferredPhysicalNumaNodes.length > 0 ? { PreferredPhysicalNodes: [...opts.PreferredPhysicalNumaNodes] } : {};
  if (opts.AllowOvercommit) throw bad('supports only physically backed memory (AllowOvercommit must be false)');
  if (opts.MaxProcessorsPerNumaNode > 0) {
    if (opts.MaxMemorySizePerNumaNode === 0) throw bad('max size per node must be set when max processors per node is set');
    return {
      numa: { ...preferred, MaxSizePerNode: opts.MaxMemorySizePerNumaNode },
      numaProcessors: { count_per_node: { max: opts.MaxProcessorsPerNumaNode } },
    };
  }
  const nodes = opts.NumaMappedPhysicalNodes;
  if (nodes.length !== opts.NumaProcessorCounts.length || nodes.length !== opts.NumaMemoryBlocksCounts.length) {
    throw bad(`${nodes.length} mapped physical nodes but ${opts.NumaProcessorCounts.length} processor counts and ${opts.NumaMemoryBlocksCounts.length} memory-block counts`);
  }
  if (nodes.length > 255) throw bad(`${nodes.length} nodes (VirtualNodeCount is a u8)`);
  const settings = nodes.map((physical, i) => ({
    VirtualNodeNumber: i,
    PhysicalNodeNumber: physical,
    VirtualSocketNumber: i,
    CountOfProcessors: opts.NumaProcessorCounts[i]!,
    CountOfMemoryBlocks: opts.NumaMemoryBlocksCounts[i]!,
    MemoryBackingType: 'Physical',
  }));
  validateSettings(settings);
  const cpus = settings.reduce((n, s) => n + s.CountOfProcessors, 0);
  const mem = settings.reduce((n, s) => n + s.CountOfMemoryBlocks, 0);
  if (cpus !== 0 && cpus !== processorCount) throw bad(`total processor count ${cpus} does not match the VM's ${processorCount}`);
  if (mem !== 0 && mem !== memoryMB) throw bad(`total memory ${mem} MB does not match the VM's ${memoryMB} MB`);
  return { numa: { VirtualNodeCount: nodes.length, ...preferred, Settings: settings } };
}

interface Setting {
  readonly VirtualNodeNumber: number;
  readonly PhysicalNodeNumber: number;
  readonly CountOfProcessors: number;
  readonly CountOfMemoryBlocks: number;
}

/** hcsshim's vmutils validate: node numbers in range, no wildcard mix, no node without memory. */
export function validateSettings(settings: readonly Setting[]): void {
  if (settings.length === 0) return;
  const wildcard = settings[0]!.PhysicalNodeNumber === WildcardPhysicalNode;
  const seen = new Set<number>();
  let cpus = 0;
  let mem = 0;
  for (const s of settings) {
    if (s.VirtualNodeNumber > VirtualNodeNumberMax) throw bad(`virtual node number ${s.VirtualNodeNumber} exceeds ${VirtualNodeNumberMax}`);
    if (s.PhysicalNodeNumber !== WildcardPhysicalNode && s.PhysicalNodeNumber >= PhysicalNodeCountMax) {
      throw bad(`physical node number ${s.PhysicalNodeNumber} exceeds ${PhysicalNodeCountMax - 1}`);
    }
    if (wildcard !== (s.PhysicalNodeNumber === WildcardPhysicalNode)) throw bad(`a mix of wildcard (${WildcardPhysicalNode}) and non-wildcard (${s.PhysicalNodeNumber}) physical node numbers`);
    if (s.CountOfMemoryBlocks === 0) throw bad('nodes without memory are not allowed');
    if (seen.has(s.VirtualNodeNumber)) throw bad(`virtual node number ${s.VirtualNodeNumber} is duplicated`);
    seen.add(s.VirtualNodeNumber);
    cpus += s.CountOfProcessors;
    mem += s.CountOfMemoryBlocks;
  }
  if ((mem === 0) !== (cpus === 0)) throw bad('partial resource allocation is not allowed');
}
