/**
 * Container statistics for GetProperties "Statistics": like the real guest, containerd's cgroups v1
 * `Metrics` in full, with the JSON names of that Go type (omitempty: zero values and empty objects are left
 * out):
 *   pids {current, limit}
 *   cpu {usage {total, kernel, user, per_cpu[]}, throttling {periods, throttled_periods, throttled_time}}
 *   memory {cache, rss, rss_huge, mapped_file, dirty, writeback, pg_pg_in, pg_pg_out, pg_fault, pg_maj_fault,
 *           inactive_anon, active_anon, inactive_file, active_file, unevictable, hierarchical_memory_limit,
 *           hierarchical_swap_limit, total_* of each counter, usage|swap|kernel|kernel_tcp {limit, usage, max, failcnt}}
 *   blkio {io_service_bytes_recursive, io_serviced_recursive, io_queued_recursive, io_service_time_recursive,
 *          io_wait_time_recursive, io_merged_recursive, io_time_recursive, sectors_recursive: [{op, major, minor, value}]}
 *   memory_oom_control {oom_kill_disable, under_oom, oom_kill}
 * Every value is a uint64 read as a bigint, so it goes on the wire with its exact digits (a limit such as
 * 9223372036854771712 must not come out as …4772000). The cgroup is the init's, from /proc/<pid>/cgroup; on
 * a cgroup v2 host the same shape is filled from the unified files that have a v1 equivalent.
 */
import { readFile } from '../async/index.js';
import { join } from 'node:path';

const CGROUP_ROOT = '/sys/fs/cgroup';
/** USER_HZ: cpuacct.stat counts in clock ticks (containerd converts with 100 ticks per second). */
const NS_PER_TICK = 10_000_000n;

type U64 = bigint | undefined;
type Obj = Record<string, unknown>;

const u64 = (text: string | undefined): U64 => (text !== undefined && /^\d+$/.test(text) ? BigInt(text) : undefined);

async function readText(file: string | undefined): Promise<string | undefined> {
  if (file === undefined) return undefined;
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    return undefined;
  }
}

async function readU64(file: string | undefined): Promise<U64> {
  const text = await readText(file);
  return text === 'max' ? undefined : u64(text?.split(/\s+/)[0]);
}

/** "key value" lines. */
async function readKeyed(file: string | undefined): Promise<Map<string, bigint>> {
  const out = new Map<string, bigint>();
  for (const line of ((await readText(file)) ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    const n = u64(v);
    if (k && n !== undefined) out.set(k, n);
  }
  return out;
}

/** blkio "major:minor Op value" lines → containerd BlkIOEntry objects. */
async function readBlkio(file: string | undefined): Promise<Obj[]> {
  const out: Obj[] = [];
  for (const line of ((await readText(file)) ?? '').split('\n')) {
    const m = /^(\d+):(\d+) (\S+) (\d+)$/.exec(line.trim()) ?? /^(\d+):(\d+) (\d+)$/.exec(line.trim());
    if (!m) continue;
    const [op, value] = m.length === 5 ? [m[3]!, m[4]!] : ['', m[3]!];
    out.push(prune({ op, major: BigInt(m[1]!), minor: BigInt(m[2]!), value: BigInt(value) }) ?? {});
  }
  return out;
}

/** Go's omitempty: drop zero, empty and undefined fields; undefined when nothing is left. */
function prune(o: Obj): Obj | undefined {
  for (const k of Object.keys(o)) {
    const v = o[k];
    if (v === undefined || v === 0n || v === '' || (Array.isArray(v) && v.length === 0)) delete o[k];
  }
  return Object.keys(o).length ? o : undefined;
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

/** memory.stat key → Metrics field, for the counters that have a total_* twin. */
const MEMORY_COUNTERS: ReadonlyArray<[string, string]> = [
  ['cache', 'cache'], ['rss', 'rss'], ['rss_huge', 'rss_huge'], ['mapped_file', 'mapped_file'], ['dirty', 'dirty'],
  ['writeback', 'writeback'], ['pgpgin', 'pg_pg_in'], ['pgpgout', 'pg_pg_out'], ['pgfault', 'pg_fault'],
  ['pgmajfault', 'pg_maj_fault'], ['inactive_anon', 'inactive_anon'], ['active_anon', 'active_anon'],
  ['inactive_file', 'inactive_file'], ['active_file', 'active_file'], ['unevictable', 'unevictable'],
];

/** Metrics for the cgroup of `pid`, in the cgroups stats/v1 JSON shape, uint64 values as bigints. */
export async function cgroupMetrics(pid: number): Promise<Obj> {
  const paths = await cgroupPaths(pid);
  if (paths.has('') && !paths.has('memory')) return unifiedMetrics(join(CGROUP_ROOT, paths.get('')!));
  const at = (ctl: string, file: string): string | undefined => {
    const p = paths.get(ctl);
    return p === undefined ? undefined : join(CGROUP_ROOT, ctl, p, file);
  };
  const memStat = await readKeyed(at('memory', 'memory.stat'));
  const memory: Obj = {};
  for (const [key, field] of MEMORY_COUNTERS) {
    memory[field] = memStat.get(key);
    memory[`total_${field}`] = memStat.get(`total_${key}`);
  }
  memory['hierarchical_memory_limit'] = memStat.get('hierarchical_memory_limit');
  memory['hierarchical_swap_limit'] = memStat.get('hierarchical_memsw_limit');
  const entry = async (prefix: string): Promise<Obj | undefined> =>
    prune({
      limit: await readU64(at('memory', `${prefix}.limit_in_bytes`)),
      usage: await readU64(at('memory', `${prefix}.usage_in_bytes`)),
      max: await readU64(at('memory', `${prefix}.max_usage_in_bytes`)),
      failcnt: await readU64(at('memory', `${prefix}.failcnt`)),
    });
  memory['usage'] = await entry('memory');
  memory['swap'] = await entry('memory.memsw');
  memory['kernel'] = await entry('memory.kmem');
  memory['kernel_tcp'] = await entry('memory.kmem.tcp');

  const cpuStat = await readKeyed(at('cpuacct', 'cpuacct.stat'));
  const throttle = await readKeyed(at('cpu', 'cpu.stat'));
  const perCpu = ((await readText(at('cpuacct', 'cpuacct.usage_percpu'))) ?? '').split(/\s+/).map(u64).filter((v): v is bigint => v !== undefined);
  const ticks = (k: string): U64 => (cpuStat.has(k) ? cpuStat.get(k)! * NS_PER_TICK : undefined);

  const blk = (name: string): Promise<Obj[]> => readBlkio(at('blkio', `blkio.${name}`));
  const blkio: Obj = {};
  for (const name of ['io_service_bytes_recursive', 'io_serviced_recursive', 'io_queued_recursive', 'io_service_time_recursive', 'io_wait_time_recursive', 'io_merged_recursive', 'io_time_recursive', 'sectors_recursive']) {
    blkio[name] = await blk(name);
  }
  // No CFQ statistics (e.g. the none/mq-deadline schedulers): containerd falls back to the throttle files.
  if ((blkio['io_service_bytes_recursive'] as Obj[]).length === 0) {
    blkio['io_service_bytes_recursive'] = await blk('throttle.io_service_bytes');
    blkio['io_serviced_recursive'] = await blk('throttle.io_serviced');
  }
  const oom = await readKeyed(at('memory', 'memory.oom_control'));

  return (
    prune({
      pids: prune({ current: await readU64(at('pids', 'pids.current')), limit: await readU64(at('pids', 'pids.max')) }),
      cpu: prune({
        usage: prune({ total: await readU64(at('cpuacct', 'cpuacct.usage')), kernel: ticks('system'), user: ticks('user'), per_cpu: perCpu }),
        throttling: prune({ periods: throttle.get('nr_periods'), throttled_periods: throttle.get('nr_throttled'), throttled_time: throttle.get('throttled_time') }),
      }),
      memory: prune(memory),
      blkio: prune(blkio),
      memory_oom_control: prune({ oom_kill_disable: oom.get('oom_kill_disable'), under_oom: oom.get('under_oom'), oom_kill: oom.get('oom_kill') }),
    }) ?? {}
  );
}

/** A cgroup v2 host: the v1 fields that have a unified equivalent. */
async function unifiedMetrics(dir: string): Promise<Obj> {
  const cpu = await readKeyed(join(dir, 'cpu.stat'));
  const mem = await readKeyed(join(dir, 'memory.stat'));
  const usec = (k: string): U64 => (cpu.has(k) ? cpu.get(k)! * 1000n : undefined);
  return (
    prune({
      pids: prune({ current: await readU64(join(dir, 'pids.current')), limit: await readU64(join(dir, 'pids.max')) }),
      cpu: prune({
        usage: prune({ total: usec('usage_usec'), kernel: usec('system_usec'), user: usec('user_usec') }),
        throttling: prune({ periods: cpu.get('nr_periods'), throttled_periods: cpu.get('nr_throttled'), throttled_time: usec('throttled_usec') }),
      }),
      memory: prune({
        cache: mem.get('file'),
        rss: mem.get('anon'),
        mapped_file: mem.get('file_mapped'),
        dirty: mem.get('file_dirty'),
        writeback: mem.get('file_writeback'),
        pg_fault: mem.get('pgfault'),
        pg_maj_fault: mem.get('pgmajfault'),
        usage: prune({ usage: await readU64(join(dir, 'memory.current')), limit: await readU64(join(dir, 'memory.max')), max: await readU64(join(dir, 'memory.peak')) }),
      }),
    }) ?? {}
  );
}
