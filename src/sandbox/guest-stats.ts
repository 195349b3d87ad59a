import type { TaskStats } from './types.js';

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const obj = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

function defined(o: Record<string, number | undefined>): Record<string, number> | undefined {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * The guest's LCOWMetrics (containerd's cgroups stats/v1 Metrics as JSON: pids.current/limit,
 * cpu.usage.total/kernel/user in ns, memory.usage.usage/limit, memory.cache/rss) in cgroup v2 terms.
 */
export function statsFromLcowMetrics(metrics: unknown): TaskStats {
  const m = obj(metrics);
  const pids = obj(m.pids);
  const cpuUsage = obj(obj(m.cpu).usage);
  const mem = obj(m.memory);
  const memUsage = obj(mem.usage);
  const usec = (ns: unknown): number | undefined => {
    const n = num(ns);
    return n === undefined ? undefined : Math.floor(n / 1000);
  };
  const cpu = defined({ usage_usec: usec(cpuUsage.total), user_usec: usec(cpuUsage.user), system_usec: usec(cpuUsage.kernel) });
  const memory = defined({
    usage: num(memUsage.usage), usage_limit: num(memUsage.limit), anon: num(mem.rss), file: num(mem.cache),
  });
  return {
    ...(num(pids.current) !== undefined ? { pids: { current: num(pids.current) ?? 0, limit: num(pids.limit) ?? 0 } } : {}),
    ...(cpu ? { cpu } : {}),
    ...(memory ? { memory } : {}),
  };
}
