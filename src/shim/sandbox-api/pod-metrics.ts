/**
 * SandboxMetrics' figures: the pod's usage as the sum of its containers' cgroup statistics, each read from
 * the guest exactly as the Task service's Stats reads it (GCS container statistics). The GCS protocol has
 * no pod-level statistics request, and the pod's sandbox container is created but never started (no
 * process, no usage), so the sum of the running pod containers is the pod-level figure; a pod with no
 * running container reports zero usage.
 *
 * Counters and usages (cpu.stat, memory.stat, memory.current, pids.current) are summed exactly (bigint).
 * Memory limits (memory.max, memory.swap.max) are the sum of the containers' when every one has a limit,
 * as a pod cgroup's would be, and "max" (2^64-1, cgroup v2's unlimited) otherwise: never absent, since
 * containerd's CRI reads an absent (0) limit as a limit and reports available = 0 - working set (wrapped).
 * pids.limit is 0 (not reported).
 */
import type { TaskStats, U64 } from '../../sandbox/index.js';

/** Per-container limits (summed only when every container has one). */
const LIMITS = ['usage_limit', 'swap_limit'] as const;
/** cgroup v2's "max" as containerd's cgroups reports it; CRI takes anything above 2^62 as unlimited. */
export const UNLIMITED = 2n ** 64n - 1n;
const LIMITED_BELOW = 2n ** 62n;

const exact = (v: bigint): U64 => (v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);

function sum(parts: readonly (Readonly<Record<string, U64>> | undefined)[]): Record<string, U64> {
  const total = new Map<string, bigint>();
  for (const part of parts) {
    for (const [k, v] of Object.entries(part ?? {})) {
      if (!(LIMITS as readonly string[]).includes(k)) total.set(k, (total.get(k) ?? 0n) + BigInt(v));
    }
  }
  return Object.fromEntries([...total].map(([k, v]) => [k, exact(v)]));
}

function limit(containers: readonly TaskStats[], key: (typeof LIMITS)[number]): U64 {
  let total = 0n;
  for (const c of containers) {
    const v = c.memory?.[key];
    if (v === undefined || BigInt(v) === 0n || BigInt(v) > LIMITED_BELOW) return UNLIMITED;
    total += BigInt(v);
  }
  return containers.length === 0 || total > LIMITED_BELOW ? UNLIMITED : exact(total);
}

/** The pod's statistics from its containers' (cpu usage_usec, memory usage, limits and pids.current always present). */
export function podStats(containers: readonly TaskStats[]): TaskStats {
  const cpu = sum(containers.map((c) => c.cpu));
  const memory = { ...sum(containers.map((c) => c.memory)), usage_limit: limit(containers, 'usage_limit'), swap_limit: limit(containers, 'swap_limit') };
  const pids = containers.reduce((n, c) => n + BigInt(c.pids?.current ?? 0), 0n);
  return {
    pids: { current: exact(pids), limit: 0 },
    cpu: { usage_usec: 0, user_usec: 0, system_usec: 0, ...cpu },
    memory: { usage: 0, ...memory },
  };
}
