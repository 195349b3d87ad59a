import type { TaskStats, U64 } from './types.js';

/** A uint64 from the guest's JSON: a number, or a bigint beyond 2^53 (read exactly, exact-json.ts). */
const u64 = (v: unknown): U64 | undefined => {
  if (typeof v === 'bigint') return v >= 0n ? v : undefined;
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined;
};
const obj = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

function defined(o: Record<string, U64 | undefined>): Record<string, U64> | undefined {
  const out: Record<string, U64> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return Object.keys(out).length > 0 ? out : undefined;
}

/** ns → µs, exact for bigints. */
const usec = (ns: unknown): U64 | undefined => {
  const n = u64(ns);
  if (n === undefined) return undefined;
  return typeof n === 'bigint' ? n / 1000n : Math.floor(n / 1000);
};

/**
 * The guest's LCOWMetrics (containerd's cgroups stats/v1 Metrics as JSON, hcsshim's LCOW statistics) in
 * the cgroup v2 terms Linux clients decode (io.containerd.cgroups.v2.Metrics). Values stay exact: a bigint
 * from the guest (e.g. an unlimited cgroup's 9223372036854771712) is passed through as a bigint.
 */
export function statsFromLcowMetrics(metrics: unknown): TaskStats {
  const m = obj(metrics);
  const pids = obj(m.pids);
  const cpuStat = obj(m.cpu);
  const cpuUsage = obj(cpuStat.usage);
  const throttling = obj(cpuStat.throttling);
  const mem = obj(m.memory);
  const memUsage = obj(mem.usage);
  const swap = obj(mem.swap);
  const cpu = defined({
    usage_usec: usec(cpuUsage.total),
    user_usec: usec(cpuUsage.user),
    system_usec: usec(cpuUsage.kernel),
    nr_periods: u64(throttling.periods),
    nr_throttled: u64(throttling.throttled_periods),
    throttled_usec: usec(throttling.throttled_time),
  });
  const memory = defined({
    anon: u64(mem.rss),
    file: u64(mem.cache),
    file_mapped: u64(mem.mapped_file),
    file_dirty: u64(mem.dirty),
    file_writeback: u64(mem.writeback),
    anon_thp: u64(mem.rss_huge),
    inactive_anon: u64(mem.inactive_anon),
    active_anon: u64(mem.active_anon),
    inactive_file: u64(mem.inactive_file),
    active_file: u64(mem.active_file),
    unevictable: u64(mem.unevictable),
    pgfault: u64(mem.pg_fault),
    pgmajfault: u64(mem.pg_maj_fault),
    usage: u64(memUsage.usage),
    usage_limit: u64(memUsage.limit),
    swap_usage: u64(swap.usage),
    swap_limit: u64(swap.limit),
  });
  return {
    ...(u64(pids.current) !== undefined ? { pids: { current: u64(pids.current) ?? 0, limit: u64(pids.limit) ?? 0 } } : {}),
    ...(cpu ? { cpu } : {}),
    ...(memory ? { memory } : {}),
  };
}
