/**
 * The Sandbox service's ttrpc edge (containerd.runtime.sandbox.v1.Sandbox): decode, call PodSandbox, encode.
 * Errors travel unchanged to the ttrpc server, which maps ShimError codes to google.rpc.Status in one place.
 * Protobuf types stop here. UpdateSandbox stays Unimplemented (containerd tolerates it).
 * SandboxMetrics answers a containerd.types.Metric whose data is the Stats wire's type (stats-wire.ts):
 * io.containerd.cgroups.v2.Metrics on a Linux host, which containerd's Linux CRI decodes for PodSandboxStats.
 */
import { invalidArgument } from '../../errdefs/index.js';
import type { Logger } from '../../log/index.js';
import { containerd, runtime } from '../../proto/index.js';
import type { UnaryHandler } from '../../ttrpc/index.js';
import { bindRpcs, decodePayload as decode, timedMethods } from '../rpc-methods.js';
import { encodeStats, type StatsWire } from '../stats-wire.js';
import { toTimestamp } from '../timestamp.js';
import type { PodSandbox } from './pod-sandbox.js';

export const SANDBOX_SERVICE_V1 = 'containerd.runtime.sandbox.v1.Sandbox';

const sb = containerd.runtime.sandbox.v1;

const POD_SANDBOX_CONFIG = 'runtime.v1.PodSandboxConfig';

/**
 * The pod's hostname and annotations from CreateSandboxRequest.options: containerd's CRI passes the pod's
 * runtime.v1.PodSandboxConfig there. Another type (a non-CRI client) carries neither; a PodSandboxConfig that
 * does not decode is an InvalidArgument naming it.
 */
function podConfig(options: { type_url?: string | null; value?: Uint8Array | null } | null | undefined): { hostname: string; annotations: Record<string, string> } {
  const typeUrl = options?.type_url ?? '';
  if (typeUrl.slice(typeUrl.lastIndexOf('/') + 1) !== POD_SANDBOX_CONFIG) return { hostname: '', annotations: {} };
  let c: runtime.v1.PodSandboxConfig;
  try {
    c = runtime.v1.PodSandboxConfig.decode(options?.value ?? new Uint8Array());
  } catch (err) {
    throw invalidArgument(`CreateSandboxRequest.options: ${POD_SANDBOX_CONFIG} does not decode: ${(err as Error).message}`);
  }
  return { hostname: c.hostname ?? '', annotations: { ...(c.annotations ?? {}) } };
}

type Rpc = (payload: Uint8Array, logic: PodSandbox, wire: StatsWire) => Promise<Uint8Array>;

const RPCS: Record<string, Rpc> = {
  async CreateSandbox(p, l) {
    const r = decode(sb.CreateSandboxRequest, p);
    const pod = podConfig(r.options);
    l.create({
      id: r.sandbox_id ?? '', bundle: r.bundle_path ?? '', netnsPath: r.netns_path ?? '', hostname: pod.hostname,
      // the pod's annotations (CRI hands the sandboxer the PodSandboxConfig), the request's own winning
      annotations: { ...pod.annotations, ...(r.annotations ?? {}) },
    });
    return sb.CreateSandboxResponse.encode({}).finish();
  },
  async StartSandbox(p, l) {
    const r = decode(sb.StartSandboxRequest, p);
    const { createdAt } = await l.start(r.sandbox_id ?? '');
    // no pause process: the sandbox is the utility VM, which has no host pid
    return sb.StartSandboxResponse.encode({ pid: 0, created_at: toTimestamp(createdAt) }).finish();
  },
  async Platform(p, l) {
    const r = decode(sb.PlatformRequest, p);
    return sb.PlatformResponse.encode({ platform: l.platform(r.sandbox_id ?? '') }).finish();
  },
  async StopSandbox(p, l) {
    const r = decode(sb.StopSandboxRequest, p);
    await l.stop(r.sandbox_id ?? '');
    return sb.StopSandboxResponse.encode({}).finish();
  },
  async WaitSandbox(p, l) {
    const r = decode(sb.WaitSandboxRequest, p);
    const e = await l.wait(r.sandbox_id ?? '');
    return sb.WaitSandboxResponse.encode({ exit_status: e.exitStatus, exited_at: toTimestamp(e.exitedAt) }).finish();
  },
  async SandboxStatus(p, l) {
    const r = decode(sb.SandboxStatusRequest, p);
    const s = l.status(r.sandbox_id ?? '');
    return sb.SandboxStatusResponse.encode({
      sandbox_id: s.id, pid: 0, state: s.state, info: s.info,
      ...(s.createdAt ? { created_at: toTimestamp(s.createdAt) } : {}),
      ...(s.exitedAt ? { exited_at: toTimestamp(s.exitedAt) } : {}),
    }).finish();
  },
  async PingSandbox(p, l) {
    l.ping(decode(sb.PingRequest, p).sandbox_id ?? '');
    return sb.PingResponse.encode({}).finish();
  },
  async ShutdownSandbox(p, l) {
    await l.shutdown(decode(sb.ShutdownSandboxRequest, p).sandbox_id ?? '');
    return sb.ShutdownSandboxResponse.encode({}).finish();
  },
  async SandboxMetrics(p, l, wire) {
    const id = decode(sb.SandboxMetricsRequest, p).sandbox_id ?? '';
    const m = await l.metrics(id);
    return sb.SandboxMetricsResponse.encode({ metrics: { timestamp: toTimestamp(m.timestamp), id, data: encodeStats(wire, m.stats) } }).finish();
  },
};

/** The ttrpc method table of the Sandbox service; each call is logged at debug with its duration. */
export function sandboxServiceMethods(logic: PodSandbox, log: Logger, wire: StatsWire = 'linux'): Record<string, UnaryHandler> {
  return timedMethods(bindRpcs(RPCS, logic, wire), log, { label: 'sandbox', failurePrefix: 'sandbox ' });
}
