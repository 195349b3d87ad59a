/**
 * Container statistics for GetProperties "Statistics": the real guest returns its cgroup v1 metrics
 * (containerd cgroups stats/v1 Metrics, JSON field names of that type: pids.current/limit,
 * cpu.usage.total/kernel/user in nanoseconds, memory.usage.usage/limit/max, memory.cache/rss). We read the
 * cgroup of the container's init from /proc/<pid>/cgroup and fill the same shape from cgroup v1 files, or
 * from the unified (v2) files when the host runs cgroup v2. Missing files leave fields out (omitempty).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

const CGROUP_ROOT = '/sys/fs/cgroup';

async function readNum(file: string): Promise<number | undefined> {
  try {
    const text = (await readFile(file, 'utf8')).trim();
    if (text === 'max') return undefined;
    const n = Number(text.split(/\s+/)[0]);
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

async function readKeyed(file: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  try {
    for (const line of (await readFile(file, 'utf8')).split('\n')) {
      const [k, v] = line.trim().split(/\s+/);
      if (k && v !== undefined && Number.isFinite(Number(v))) out.set(k, Number(v));
    }
  } catch {
    /* absent */
  }
  return out;
}

/** controller → cgroup path (v1), plus '' → path for the unified hierarchy. */
export async function cgroupPaths(pid: number): Promise<Map<string, string>> {
  const map = new Map<string, string>();
  const text = await readFile(`/proc/${pid}/cgroup`, 'utf8');
  for (const line of text.split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line.trim());
    if (!m) continue;
    for (const ctl of m[1]!.split(',')) map.set(ctl, m[2]!);
  }
  return map;
}

const prune = (o: Record<string, unknown>): Record<string, unknown> | undefined => {
  for (const k of Object.keys(o)) if (o[k] === undefined || o[k] === 0) delete o[k];
  return Object.keys(o).length ? o : undefined;
};

/** Metrics for the cgroup of `pid`, in the cgroups stats/v1 JSON shape. */
export async function cgroupMetrics(pid: number): Promise<Record<string, unknown>> {
  const paths = await cgroupPaths(pid);
  const v1 = (ctl: string, file: string): string | undefined => {
    const p = paths.get(ctl);
    return p === undefined ? undefined : join(CGROUP_ROOT, ctl, p, file);
  };
  const unified = paths.has('') && !paths.has('memory') ? join(CGROUP_ROOT, paths.get('')!) : undefined;
  const metrics: Record<string, unknown> = {};
  if (unified) {
    const cpu = await readKeyed(join(unified, 'cpu.stat'));
    const mem = await readKeyed(join(unified, 'memory.stat'));
    metrics['pids'] = prune({ current: await readNum(join(unified, 'pids.current')), limit: await readNum(join(unified, 'pids.max')) });
    const usec = (k: string): number | undefined => (cpu.has(k) ? cpu.get(k)! * 1000 : undefined);
    metrics['cpu'] = prune({ usage: prune({ total: usec('usage_usec'), kernel: usec('system_usec'), user: usec('user_usec') }) });
    metrics['memory'] = prune({
      cache: mem.get('file'),
      rss: mem.get('anon'),
      usage: prune({ usage: await readNum(join(unified, 'memory.current')), limit: await readNum(join(unified, 'memory.max')), max: await readNum(join(unified, 'memory.peak')) }),
    });
  } else {
    const f = async (ctl: string, file: string): Promise<number | undefined> => {
      const p = v1(ctl, file);
      return p ? readNum(p) : undefined;
    };
    const memStat = v1('memory', 'memory.stat');
    const mem = memStat ? await readKeyed(memStat) : new Map<string, number>();
    metrics['pids'] = prune({ current: await f('pids', 'pids.current'), limit: await f('pids', 'pids.max') });
    metrics['cpu'] = prune({
      usage: prune({ total: await f('cpuacct', 'cpuacct.usage'), kernel: await f('cpuacct', 'cpuacct.usage_sys'), user: await f('cpuacct', 'cpuacct.usage_user') }),
    });
    metrics['memory'] = prune({
      cache: mem.get('total_cache') ?? mem.get('cache'),
      rss: mem.get('total_rss') ?? mem.get('rss'),
      usage: prune({
        usage: await f('memory', 'memory.usage_in_bytes'),
        limit: await f('memory', 'memory.limit_in_bytes'),
        max: await f('memory', 'memory.max_usage_in_bytes'),
        failcnt: await f('memory', 'memory.failcnt'),
      }),
    });
  }
  return prune(metrics) ?? {};
}
