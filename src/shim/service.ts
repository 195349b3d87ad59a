/**
 * The Task service's ttrpc edge: one table maps each RPC to its request decoder, a conversion into the
 * internal types of task/types.ts, the logic call, and the response encoder. Errors thrown by the logic
 * travel unchanged to the ttrpc server, which maps them to google.rpc.Status in one place.
 * Protobuf types stop here.
 */
import { invalidArgument } from '../errdefs/index.js';
import { Field, type Logger } from '../log/index.js';
import { containerd, google } from '../proto/index.js';
import type { UnaryHandler } from '../ttrpc/index.js';
import { encodeConnectResponse } from './connect-response.js';
import { bindRpcs, decodePayload, timedMethods } from './rpc-methods.js';
import { encodeProcessInfo, encodeStats, type StatsWire } from './stats-wire.js';
import type { Mount, OpaqueAny, ResourcesKind, StdioPaths, TaskLogic } from './task/types.js';
import { toTimestamp } from './timestamp.js';

const task = containerd.task.v2;
const empty = (): Uint8Array => google.protobuf.Empty.encode({}).finish();
export const TASK_SERVICE_V2 = 'containerd.task.v2.Task';
export const TASK_SERVICE_V3 = 'containerd.task.v3.Task';

interface StdioFields {
  stdin?: string | null;
  stdout?: string | null;
  stderr?: string | null;
  terminal?: boolean | null;
}

const stdio = (r: StdioFields): StdioPaths => ({
  stdin: r.stdin ?? '',
  stdout: r.stdout ?? '',
  stderr: r.stderr ?? '',
  terminal: r.terminal ?? false,
});

function opaque(any: { type_url?: string | null; value?: Uint8Array | null } | null | undefined): OpaqueAny | undefined {
  if (!any || (!any.type_url && (!any.value || any.value.length === 0))) return undefined;
  return { typeUrl: any.type_url ?? '', value: any.value ?? new Uint8Array() };
}

/** Parses a JSON Any (the OCI Process of Exec, the LinuxResources of Update). */
function jsonAny(any: OpaqueAny | undefined, what: string): Record<string, unknown> | undefined {
  if (any === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(any.value).toString('utf8'));
  } catch (err) {
    throw invalidArgument(`${what} (${any.typeUrl}) is not valid JSON: ${(err as Error).message}`, err);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidArgument(`${what} (${any.typeUrl}) must be a JSON object`);
  }
  return value as Record<string, unknown>;
}

export const LINUX_RESOURCES_TYPE_URL = 'types.containerd.io/opencontainers/runtime-spec/1/LinuxResources';
export const WINDOWS_RESOURCES_TYPE_URL = 'types.containerd.io/opencontainers/runtime-spec/1/WindowsResources';

/** Update takes runtime-spec LinuxResources or WindowsResources, as runhcs (verifyTaskUpdateResourcesType). */
function resourcesKind(any: OpaqueAny | undefined): ResourcesKind {
  if (any === undefined || any.typeUrl === LINUX_RESOURCES_TYPE_URL) return 'linux';
  if (any.typeUrl === WINDOWS_RESOURCES_TYPE_URL) return 'windows';
  throw invalidArgument(`update resources must be of type LinuxResources or WindowsResources, not '${any.typeUrl}'`);
}

const mounts = (list: readonly containerd.types.Mount.$Properties[] | null | undefined): Mount[] =>
  (list ?? []).map((m) => ({ type: m.type ?? '', source: m.source ?? '', target: m.target ?? '', options: m.options ?? [] }));

const exitFields = (e: { exitStatus: number; exitedAt?: Date }) => ({
  exit_status: e.exitStatus,
  exited_at: e.exitedAt ? toTimestamp(e.exitedAt) : null,
});

type Rpc = (payload: Uint8Array, logic: TaskLogic, wire: StatsWire) => Promise<Uint8Array>;

/** Every Task RPC: decode → convert → logic → encode. */
const RPCS: Readonly<Record<string, Rpc>> = {
  async Create(p, l) {
    const r = decodePayload(task.CreateTaskRequest, p);
    const opts = opaque(r.options);
    const res = await l.create({
      id: r.id ?? '', bundle: r.bundle ?? '', rootfs: mounts(r.rootfs), stdio: stdio(r),
      checkpoint: r.checkpoint ?? '', ...(opts ? { options: opts } : {}),
    });
    return task.CreateTaskResponse.encode({ pid: res.pid }).finish();
  },
  async Start(p, l) {
    const r = decodePayload(task.StartRequest, p);
    return task.StartResponse.encode(await l.start(r.id ?? '', r.exec_id ?? '')).finish();
  },
  async State(p, l) {
    const r = decodePayload(task.StateRequest, p);
    const s = await l.state(r.id ?? '', r.exec_id ?? '');
    return task.StateResponse.encode({
      id: s.id, bundle: s.bundle, pid: s.pid, status: s.status as number as containerd.v1.types.Status, ...s.stdio, exec_id: s.execId, ...exitFields(s),
    }).finish();
  },
  async Delete(p, l) {
    const r = decodePayload(task.DeleteRequest, p);
    const e = await l.delete(r.id ?? '', r.exec_id ?? '');
    return task.DeleteResponse.encode({ pid: e.pid, ...exitFields(e) }).finish();
  },
  async Pids(p, l, wire) {
    const r = decodePayload(task.PidsRequest, p);
    const processes = (await l.pids(r.id ?? '')).map((e) => encodeProcessInfo(wire, e));
    return task.PidsResponse.encode({ processes }).finish();
  },
  async Pause(p, l) {
    await l.pause(decodePayload(task.PauseRequest, p).id ?? '');
    return empty();
  },
  async Resume(p, l) {
    await l.resume(decodePayload(task.ResumeRequest, p).id ?? '');
    return empty();
  },
  async Checkpoint(p, l) {
    const r = decodePayload(task.CheckpointTaskRequest, p);
    await l.checkpoint(r.id ?? '', r.path ?? '');
    return empty();
  },
  async Kill(p, l) {
    const r = decodePayload(task.KillRequest, p);
    await l.kill(r.id ?? '', r.exec_id ?? '', r.signal ?? 0, r.all ?? false);
    return empty();
  },
  async Exec(p, l) {
    const r = decodePayload(task.ExecProcessRequest, p);
    const spec = jsonAny(opaque(r.spec), 'exec spec');
    if (spec === undefined) throw invalidArgument(`exec ${r.exec_id ?? ''}: the process spec is missing`);
    await l.exec({ id: r.id ?? '', execId: r.exec_id ?? '', stdio: stdio(r), spec });
    return empty();
  },
  async ResizePty(p, l) {
    const r = decodePayload(task.ResizePtyRequest, p);
    await l.resizePty(r.id ?? '', r.exec_id ?? '', r.width ?? 0, r.height ?? 0);
    return empty();
  },
  async CloseIO(p, l) {
    const r = decodePayload(task.CloseIORequest, p);
    await l.closeIO(r.id ?? '', r.exec_id ?? '', r.stdin ?? false);
    return empty();
  },
  async Update(p, l) {
    const r = decodePayload(task.UpdateTaskRequest, p);
    const any = opaque(r.resources);
    await l.update(r.id ?? '', jsonAny(any, 'resources'), { ...(r.annotations ?? {}) }, resourcesKind(any));
    return empty();
  },
  async Wait(p, l) {
    const r = decodePayload(task.WaitRequest, p);
    return task.WaitResponse.encode(exitFields(await l.wait(r.id ?? '', r.exec_id ?? ''))).finish();
  },
  async Stats(p, l, wire) {
    const r = decodePayload(task.StatsRequest, p);
    return task.StatsResponse.encode({ stats: encodeStats(wire, await l.stats(r.id ?? '')) }).finish();
  },
  async Connect(p, l) {
    const r = decodePayload(task.ConnectRequest, p);
    const c = await l.connect(r.id ?? '');
    return encodeConnectResponse(c.shimPid, c.taskPid, c.version) ??
      task.ConnectResponse.encode({ shim_pid: c.shimPid, task_pid: c.taskPid, version: c.version }).finish();
  },
  async Shutdown(p, l) {
    const r = decodePayload(task.ShutdownRequest, p);
    await l.shutdown(r.id ?? '', r.now ?? false);
    return empty();
  },
};

export const TASK_RPC_NAMES: readonly string[] = Object.keys(RPCS);

/**
 * Read-only RPCs containerd repeats (Connect whenever it loads the shim, State, Pids, Stats): their
 * per-call line is trace, not debug, so a shim run with -debug does not format and write a log line per
 * poll (that line was ~15% of a debug shim's time under Connect load). Failures still log at debug.
 */
const QUIET_RPCS: ReadonlySet<string> = new Set(['Connect', 'State', 'Pids', 'Stats']);

/**
 * The ttrpc method table for the Task service: each handler logs the call at debug level with the task's
 * fields and its duration, and delegates to the logic. `wire` is the Stats/Pids encoding chosen once at
 * start-up (stats-wire.ts).
 */
export function taskServiceMethods(logic: TaskLogic, log: Logger, wire: StatsWire): Record<string, UnaryHandler> {
  return timedMethods(bindRpcs(RPCS, logic, wire), log, {
    label: 'task',
    failurePrefix: '',
    quiet: QUIET_RPCS,
    onCall: (name) => {
      if (name === 'Create') log.debug('task Create received', { [Field.Operation]: name }); // a start-up milestone
    },
  });
}

