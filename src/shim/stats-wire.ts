/**
 * How Stats and Pids are encoded: the types the containerd on this host decodes. Chosen once, when the
 * shim starts serving (statsWireFor), and passed to the Task edge as a value.
 *
 *   'linux'  — io.containerd.cgroups.v2.Metrics and containerd.runc.v1.ProcessDetails{exec_id}: what Linux
 *              `ctr task metrics` / `ctr task ps` and the Linux CRI decode (the emulator's host).
 *   'runhcs' — containerd.runhcs.stats.v1.Statistics{linux: io.containerd.cgroups.v1.Metrics} and
 *              containerd.runhcs.v1.ProcessDetails{process_id, exec_id}: what containerd's Windows CRI and
 *              runhcs users decode (hcsshim task_hcs.go Stats/Pids).
 */
import { invalidArgument } from '../errdefs/index.js';
import { containerd, io } from '../proto/index.js';
import type { ProcessListEntry, TaskStats } from './task/types.js';

export type StatsWire = 'linux' | 'runhcs';

export const METRICS_V2_TYPE_URL = 'io.containerd.cgroups.v2.Metrics';
export const PROCESS_DETAILS_TYPE_URL = 'containerd.runc.v1.ProcessDetails';
export const RUNHCS_STATISTICS_TYPE_URL = 'containerd.runhcs.stats.v1.Statistics';
export const RUNHCS_PROCESS_DETAILS_TYPE_URL = 'containerd.runhcs.v1.ProcessDetails';

/**
 * The host platform decides (Windows host → runhcs types). LCOW_SHIM_STATS_WIRE overrides it: a test-only
 * switch so the runhcs encoding can be exercised end to end under the emulator.
 */
export function statsWireFor(platform: 'windows' | 'linux', override = process.env.LCOW_SHIM_STATS_WIRE): StatsWire {
  if (override === undefined || override === '') return platform === 'windows' ? 'runhcs' : 'linux';
  if (override === 'linux' || override === 'runhcs') return override;
  throw invalidArgument(`LCOW_SHIM_STATS_WIRE must be 'linux' or 'runhcs', not '${override}'`);
}

type U64 = number | bigint;

/**
 * A uint64 for protobufjs (built without Long): numbers as they are; a bigint as the {low, high} pair its
 * writer takes, so values beyond 2^53 reach the client exactly.
 */
function uint64(v: U64): number {
  if (typeof v === 'number') return v;
  const bits = { low: Number(v & 0xffffffffn), high: Number((v >> 32n) & 0xffffffffn) };
  return bits as unknown as number;
}

const uint64s = (o: Readonly<Record<string, U64>>): Record<string, number> =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [k, uint64(v)]));

/** A cgroup v2 microsecond count in cgroup v1 nanoseconds (exact for bigint and for numbers up to 2^53). */
const nsec = (v: U64 | undefined): number | undefined =>
  v === undefined ? undefined : uint64(typeof v === 'bigint' ? v * 1000n : BigInt(v) * 1000n);
const u = (v: U64 | undefined): number | undefined => (v === undefined ? undefined : uint64(v));

/** A MemoryEntry, absent when the guest reported neither value. */
const entry = (usage: U64 | undefined, limit: U64 | undefined): { usage?: number; limit?: number } | null =>
  usage === undefined && limit === undefined ? null : { usage: u(usage), limit: u(limit) };

function metricsV2(s: TaskStats): Uint8Array {
  return io.containerd.cgroups.v2.Metrics.encode({
    pids: s.pids ? { current: uint64(s.pids.current), limit: uint64(s.pids.limit) } : null,
    cpu: s.cpu ? uint64s(s.cpu) : null,
    memory: s.memory ? uint64s(s.memory) : null,
  }).finish();
}

/** TaskStats (cgroup v2 terms, from the guest's cgroup v1 LCOWMetrics) back in cgroup v1 Metrics terms. */
function metricsV1(s: TaskStats): io.containerd.cgroups.v1.Metrics.$Properties {
  const c = s.cpu ?? {};
  const m = s.memory ?? {};
  return {
    pids: s.pids ? { current: uint64(s.pids.current), limit: uint64(s.pids.limit) } : null,
    cpu: s.cpu ? {
      usage: { total: nsec(c.usage_usec), kernel: nsec(c.system_usec), user: nsec(c.user_usec) },
      throttling: { periods: u(c.nr_periods), throttled_periods: u(c.nr_throttled), throttled_time: nsec(c.throttled_usec) },
    } : null,
    memory: s.memory ? {
      cache: u(m.file), rss: u(m.anon), rss_huge: u(m.anon_thp), mapped_file: u(m.file_mapped), dirty: u(m.file_dirty),
      writeback: u(m.file_writeback), pg_fault: u(m.pgfault), pg_maj_fault: u(m.pgmajfault),
      inactive_anon: u(m.inactive_anon), active_anon: u(m.active_anon), inactive_file: u(m.inactive_file),
      active_file: u(m.active_file), unevictable: u(m.unevictable),
      usage: entry(m.usage, m.usage_limit),
      swap: entry(m.swap_usage, m.swap_limit),
    } : null,
  };
}

/** The Any of a StatsResponse. */
export function encodeStats(wire: StatsWire, s: TaskStats): { type_url: string; value: Uint8Array } {
  if (wire === 'linux') return { type_url: METRICS_V2_TYPE_URL, value: metricsV2(s) };
  const value = containerd.runhcs.stats.v1.Statistics.encode({ linux: metricsV1(s) }).finish();
  return { type_url: RUNHCS_STATISTICS_TYPE_URL, value };
}

/**
 * A process of Pids. 'linux': exec pids carry containerd.runc.v1.ProcessDetails{exec_id} (hcsshim's type is
 * unknown to Linux clients and fails `ctr task ps`). 'runhcs': every pid carries containerd.runhcs.v1.ProcessDetails
 * {process_id, exec_id}, as task_hcs.go Pids does for its execs.
 */
export function encodeProcessInfo(wire: StatsWire, p: ProcessListEntry): containerd.v1.types.ProcessInfo.$Properties {
  const execId = p.execId ?? '';
  if (wire === 'runhcs') {
    const details = containerd.runhcs.v1.ProcessDetails.encode({ process_id: p.pid, exec_id: execId }).finish();
    return { pid: p.pid, info: { type_url: RUNHCS_PROCESS_DETAILS_TYPE_URL, value: details } };
  }
  if (execId === '') return { pid: p.pid };
  const details = containerd.runc.v1.ProcessDetails.encode({ exec_id: execId }).finish();
  return { pid: p.pid, info: { type_url: PROCESS_DETAILS_TYPE_URL, value: details } };
}
