/**
 * The properties document of an emulated system (HcsGetComputeSystemProperties). Always: Id, Name,
 * SystemType, RuntimeOsType, Owner, RuntimeId, State (+ Stopped/ExitType once stopped). On request
 * (PropertyTypes): Memory, ProcessorTopology, Statistics (the agent process's own uptime and CPU time),
 * TerminateOnLastHandleClosed. Other HCS property types are accepted and left out (not emulated);
 * unknown names are E_INVALIDARG like the real service.
 */
import { readFile } from '../../async/index.js';
import { HResult, ignoreErrno } from '../../errdefs/index.js';
import { isoTime } from '../../log/index.js';
import type { SystemProperties } from '../schema/index.js';
import { hcsFail } from './hresults.js';

const KNOWN = new Set([
  'Memory', 'GuestMemory', 'Statistics', 'ProcessList', 'TerminateOnLastHandleClosed', 'SharedMemoryRegion',
  'GuestConnection', 'ICHeartbeatStatus', 'ProcessorTopology', 'CpuGroup', 'Basic',
]);
const PAGE = 4096;
const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ on Linux

export interface PropertySource {
  readonly id: string;
  readonly runtimeId: string;
  readonly owner?: string;
  readonly state: 'Created' | 'Running' | 'Stopped';
  readonly exitType?: string;
  readonly memoryMB: number;
  readonly processorCount: number;
  readonly terminateOnLastHandleClosed: boolean;
  readonly startedAt?: Date;
  readonly pid?: number;
}

export async function buildProperties(src: PropertySource, query: unknown): Promise<SystemProperties> {
  const types = propertyTypes(src.id, query);
  const props: SystemProperties = {
    Id: src.id,
    Name: src.id,
    SystemType: 'VirtualMachine',
    RuntimeOsType: 'Linux',
    ...(src.owner === undefined ? {} : { Owner: src.owner }),
    RuntimeId: src.runtimeId,
    State: src.state,
    ...(src.state === 'Stopped' ? { Stopped: true, ...(src.exitType === undefined ? {} : { ExitType: src.exitType }) } : {}),
  };
  if (types.has('Memory')) {
    props['Memory'] = { VirtualMachineMemory: { AssignedMemory: (src.memoryMB * 1024 * 1024) / PAGE } };
  }
  if (types.has('ProcessorTopology')) props['ProcessorTopology'] = { LogicalProcessorCount: src.processorCount };
  if (types.has('TerminateOnLastHandleClosed')) props['TerminateOnLastHandleClosed'] = src.terminateOnLastHandleClosed;
  if (types.has('Statistics')) props['Statistics'] = await statistics(src);
  return props;
}

function propertyTypes(id: string, query: unknown): Set<string> {
  if (query === undefined || query === null) return new Set();
  const list = (query as { PropertyTypes?: unknown }).PropertyTypes;
  if (list === undefined) return new Set();
  if (!Array.isArray(list) || !list.every((t): t is string => typeof t === 'string')) {
    throw hcsFail('HcsGetComputeSystemProperties', HResult.E_INVALIDARG, 'PropertyTypes must be an array of strings', id);
  }
  for (const t of list) {
    if (!KNOWN.has(t)) throw hcsFail('HcsGetComputeSystemProperties', HResult.E_INVALIDARG, `unknown property type ${JSON.stringify(t)}`, id);
  }
  return new Set(list);
}

async function statistics(src: PropertySource): Promise<Record<string, unknown>> {
  const now = new Date();
  const out: Record<string, unknown> = { Timestamp: isoTime(now.getTime()) };
  if (src.startedAt === undefined) return out;
  out['ContainerStartTime'] = isoTime(src.startedAt.getTime());
  out['Uptime100ns'] = (now.getTime() - src.startedAt.getTime()) * 10_000;
  if (src.pid !== undefined) {
    // /proc/<pid>/stat: fields after the parenthesised comm; utime and stime are the 12th and 13th of those.
    const stat = await readFile(`/proc/${src.pid}/stat`, 'utf8').catch(ignoreErrno('ENOENT', 'ESRCH')); // the agent is gone
    const fields = stat?.slice(stat.lastIndexOf(')') + 2).split(' ');
    const user = Number(fields?.[11]);
    const kernel = Number(fields?.[12]);
    if (Number.isFinite(user) && Number.isFinite(kernel)) {
      const to100ns = (ticks: number): number => Math.round((ticks * 1e7) / CLOCK_TICKS_PER_SECOND);
      out['Processor'] = {
        TotalRuntime100ns: to100ns(user + kernel),
        RuntimeUser100ns: to100ns(user),
        RuntimeKernel100ns: to100ns(kernel),
      };
    }
  }
  return out;
}
