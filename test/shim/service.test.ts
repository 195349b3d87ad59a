/**
 * The Task service's ttrpc edge (src/shim/service.ts): real protobuf requests in, the internal types the
 * logic receives, and the protobuf responses out, against a recording fake TaskLogic.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { beforeEach, describe, it } from 'node:test';
import { ErrorCode, ShimError, notImplemented } from '../../src/errdefs/index.js';
import { containerd, google, io } from '../../src/proto/index.js';
import { TASK_RPC_NAMES, TASK_SERVICE_V2, TASK_SERVICE_V3, taskServiceMethods } from '../../src/shim/service.js';
import { METRICS_V2_TYPE_URL, PROCESS_DETAILS_TYPE_URL } from '../../src/shim/stats-wire.js';
import { ProcessStatus } from '../../src/shim/task/types.js';
import type { RpcContext, UnaryHandler } from '../../src/ttrpc/index.js';
import { FakeTaskLogic, captureLogger, silentLogger } from '../fakes/index.js';

const task = containerd.task.v2;
const SPEC_TYPE = 'types.containerd.io/opencontainers/runtime-spec/1/Process';
const RESOURCES_TYPE = 'types.containerd.io/opencontainers/runtime-spec/1/LinuxResources';
const EXITED = new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678));
const EXITED_TS = { seconds: Math.floor(EXITED.getTime() / 1000), nanos: 678_000_000 };

let logic: FakeTaskLogic;
let methods: Record<string, UnaryHandler>;
beforeEach(() => {
  logic = new FakeTaskLogic();
  methods = taskServiceMethods(logic, silentLogger(), 'linux');
});

function ctx(method: string): RpcContext {
  return { service: TASK_SERVICE_V2, method, streamId: 1, metadata: new Map(), signal: new AbortController().signal, deadline: undefined };
}

async function call(method: string, payload: Uint8Array): Promise<Uint8Array> {
  const h = methods[method];
  assert.ok(h, `no handler for ${method}`);
  return h(payload, ctx(method));
}

const json = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v));
/** google.protobuf.Empty: zero bytes, and it decodes. */
const isEmpty = (b: Uint8Array): void => {
  assert.equal(b.length, 0);
  google.protobuf.Empty.decode(b);
};

describe('the method table', () => {
  it('has exactly the RPCs of protos/containerd/task/v2/shim.proto', () => {
    const proto = readFileSync('protos/containerd/task/v2/shim.proto', 'utf8');
    const rpcs = [...proto.matchAll(/^\s*rpc (\w+)\(/gm)].map((m) => m[1]).sort();
    assert.equal(rpcs.length, 17);
    assert.deepEqual([...TASK_RPC_NAMES].sort(), rpcs);
    assert.deepEqual(Object.keys(methods).sort(), rpcs);
    assert.equal(TASK_SERVICE_V2, 'containerd.task.v2.Task');
    assert.equal(TASK_SERVICE_V3, 'containerd.task.v3.Task');
  });

  for (const name of TASK_RPC_NAMES) {
    it(`${name}: an undecodable payload is Internal 'ttrpc: error unmarshalling payload' and never reaches the logic`, async () => {
      for (const bad of [new Uint8Array([0x0f]), new Uint8Array([0x0a, 0x05, 0x41])]) {
        await assert.rejects(call(name, bad), (err: unknown) => {
          assert.ok(err instanceof ShimError);
          assert.equal(err.code, ErrorCode.Internal);
          assert.match(err.message, /^ttrpc: error unmarshalling payload: /);
          return true;
        });
      }
      assert.deepEqual(logic.calls, []);
    });
  }

  it("passes the logic's errors through unchanged", async () => {
    const err = notImplemented('pause is not supported');
    logic.failWith = err;
    await assert.rejects(call('Pause', task.PauseRequest.encode({ id: 't1' }).finish()), (e) => e === err);
  });
});

describe('each RPC', () => {
  it('Create converts mounts, stdio and options', async () => {
    logic.answers.create = { pid: 42 };
    const options = { type_url: 'containerd.runhcs.v1.Options', value: new Uint8Array([8, 1]) };
    const res = await call('Create', task.CreateTaskRequest.encode({
      id: 't1', bundle: '/b', terminal: true, stdin: '/fifo/in', stdout: '/fifo/out', stderr: '',
      rootfs: [{ type: 'overlay', source: 'overlay', options: ['lowerdir=/l', 'upperdir=/u'] }], checkpoint: '', options,
    }).finish());
    assert.equal(task.CreateTaskResponse.decode(res).pid, 42);
    const got = logic.only.args[0] as { options?: { typeUrl: string; value: Uint8Array } };
    assert.deepEqual({ ...got, options: { ...got.options, value: [...(got.options?.value ?? [])] } }, {
      id: 't1', bundle: '/b', checkpoint: '',
      rootfs: [{ type: 'overlay', source: 'overlay', target: '', options: ['lowerdir=/l', 'upperdir=/u'] }],
      stdio: { stdin: '/fifo/in', stdout: '/fifo/out', stderr: '', terminal: true },
      options: { typeUrl: 'containerd.runhcs.v1.Options', value: [8, 1] },
    });
  });

  it('Create without options passes none; an empty request gives empty strings', async () => {
    await call('Create', new Uint8Array());
    assert.deepEqual(logic.only.args[0], {
      id: '', bundle: '', rootfs: [], checkpoint: '', stdio: { stdin: '', stdout: '', stderr: '', terminal: false },
    });
  });

  it('Start passes the exec id and returns the pid', async () => {
    logic.answers.start = { pid: 1234 };
    const res = await call('Start', task.StartRequest.encode({ id: 't1', exec_id: 'e1' }).finish());
    assert.equal(task.StartResponse.decode(res).pid, 1234);
    assert.deepEqual(logic.only, { method: 'start', args: ['t1', 'e1'] });
  });

  it('State encodes the status number, stdio, exit status and exited_at Timestamp', async () => {
    logic.answers.state = {
      id: 't1', execId: 'e1', bundle: '/b', pid: 7, status: ProcessStatus.Stopped, exitStatus: 137, exitedAt: EXITED,
      stdio: { stdin: '/i', stdout: '/o', stderr: '/e', terminal: false },
    };
    const r = task.StateResponse.decode(await call('State', task.StateRequest.encode({ id: 't1', exec_id: 'e1' }).finish()));
    assert.deepEqual(logic.only, { method: 'state', args: ['t1', 'e1'] });
    assert.equal(r.id, 't1');
    assert.equal(r.exec_id, 'e1');
    assert.equal(r.bundle, '/b');
    assert.equal(r.pid, 7);
    assert.equal(r.status, 3);
    assert.equal(r.status, containerd.v1.types.Status.STOPPED);
    assert.equal(r.exit_status, 137);
    assert.deepEqual({ seconds: r.exited_at?.seconds, nanos: r.exited_at?.nanos }, EXITED_TS);
    assert.deepEqual([r.stdin, r.stdout, r.stderr, r.terminal], ['/i', '/o', '/e', false]);
  });

  it('State of a process that has not exited leaves exited_at out', async () => {
    logic.answers.state = { ...logic.answers.state, status: ProcessStatus.Running, pid: 9 };
    const bytes = await call('State', task.StateRequest.encode({ id: 't1' }).finish());
    const r = task.StateResponse.decode(bytes);
    assert.equal(r.status, containerd.v1.types.Status.RUNNING);
    assert.equal(r.exit_status, 255);
    assert.equal(r.exited_at, null);
  });

  it('Delete and Wait encode pid/exit status/exited_at', async () => {
    logic.answers.delete = { pid: 5, exitStatus: 2, exitedAt: EXITED };
    logic.answers.wait = { pid: 5, exitStatus: 2, exitedAt: EXITED };
    const d = task.DeleteResponse.decode(await call('Delete', task.DeleteRequest.encode({ id: 't1', exec_id: 'x' }).finish()));
    assert.deepEqual([d.pid, d.exit_status, d.exited_at?.seconds, d.exited_at?.nanos], [5, 2, EXITED_TS.seconds, EXITED_TS.nanos]);
    const w = task.WaitResponse.decode(await call('Wait', task.WaitRequest.encode({ id: 't1', exec_id: 'x' }).finish()));
    assert.deepEqual([w.exit_status, w.exited_at?.seconds, w.exited_at?.nanos], [2, EXITED_TS.seconds, EXITED_TS.nanos]);
    assert.deepEqual(logic.calls, [{ method: 'delete', args: ['t1', 'x'] }, { method: 'wait', args: ['t1', 'x'] }]);
  });

  it("Pids: exec processes carry runc's ProcessDetails Any (what Linux clients decode), others a bare pid", async () => {
    logic.answers.pids = [
      { pid: 1, execId: '' },
      { pid: 7 },
      { pid: 20, execId: 'e1', imageName: 'sh', kernelTime100ns: 3 },
    ];
    const r = task.PidsResponse.decode(await call('Pids', task.PidsRequest.encode({ id: 't1' }).finish()));
    assert.deepEqual(logic.only, { method: 'pids', args: ['t1'] });
    assert.deepEqual(r.processes.map((p) => [p.pid, p.info ?? null]).slice(0, 2), [[1, null], [7, null]]);
    const info = r.processes[2]?.info;
    assert.equal(r.processes[2]?.pid, 20);
    assert.equal(info?.type_url, PROCESS_DETAILS_TYPE_URL);
    assert.equal(PROCESS_DETAILS_TYPE_URL, 'containerd.runc.v1.ProcessDetails');
    assert.equal(containerd.runc.v1.ProcessDetails.decode(info?.value ?? new Uint8Array()).exec_id, 'e1');
  });

  it('Pause, Resume, Checkpoint answer Empty', async () => {
    isEmpty(await call('Pause', task.PauseRequest.encode({ id: 't1' }).finish()));
    isEmpty(await call('Resume', task.ResumeRequest.encode({ id: 't1' }).finish()));
    isEmpty(await call('Checkpoint', task.CheckpointTaskRequest.encode({ id: 't1', path: '/cp' }).finish()));
    assert.deepEqual(logic.calls, [
      { method: 'pause', args: ['t1'] }, { method: 'resume', args: ['t1'] }, { method: 'checkpoint', args: ['t1', '/cp'] },
    ]);
  });

  it('Kill, ResizePty, CloseIO, Shutdown pass their fields', async () => {
    isEmpty(await call('Kill', task.KillRequest.encode({ id: 't1', exec_id: 'e1', signal: 9, all: true }).finish()));
    isEmpty(await call('ResizePty', task.ResizePtyRequest.encode({ id: 't1', exec_id: 'e1', width: 132, height: 43 }).finish()));
    isEmpty(await call('CloseIO', task.CloseIORequest.encode({ id: 't1', exec_id: 'e1', stdin: true }).finish()));
    isEmpty(await call('Shutdown', task.ShutdownRequest.encode({ id: 't1', now: true }).finish()));
    assert.deepEqual(logic.calls, [
      { method: 'kill', args: ['t1', 'e1', 9, true] },
      { method: 'resizePty', args: ['t1', 'e1', 132, 43] },
      { method: 'closeIO', args: ['t1', 'e1', true] },
      { method: 'shutdown', args: ['t1', true] },
    ]);
  });

  it("Exec parses the spec Any's JSON into an object", async () => {
    const spec = { args: ['sh'], cwd: '/', terminal: true, env: ['A=b'] };
    isEmpty(await call('Exec', task.ExecProcessRequest.encode({
      id: 't1', exec_id: 'e1', terminal: true, stdin: '/i', stdout: '/o', stderr: '', spec: { type_url: SPEC_TYPE, value: json(spec) },
    }).finish()));
    assert.deepEqual(logic.only.args[0], { id: 't1', execId: 'e1', stdio: { stdin: '/i', stdout: '/o', stderr: '', terminal: true }, spec });
  });

  const BAD_SPECS: Array<[string, Uint8Array | undefined, RegExp]> = [
    ['invalid JSON', new TextEncoder().encode('{"args": ['), /not valid JSON/],
    ['a JSON array', json(['sh']), /JSON object/],
    ['JSON null', json(null), /JSON object/],
    ['missing', undefined, /missing/],
  ];
  for (const [what, value, message] of BAD_SPECS) {
    it(`Exec with a spec that is ${what} is InvalidArgument and never reaches the logic`, async () => {
      const req = task.ExecProcessRequest.encode({ id: 't1', exec_id: 'e1', ...(value ? { spec: { type_url: SPEC_TYPE, value } } : {}) }).finish();
      await assert.rejects(call('Exec', req), (err: unknown) => {
        assert.ok(err instanceof ShimError);
        assert.equal(err.code, ErrorCode.InvalidArgument);
        assert.match(err.message, message);
        return true;
      });
      assert.deepEqual(logic.calls, []);
    });
  }

  it('Update parses the resources JSON and passes the annotations; no resources → undefined', async () => {
    const resources = { memory: { limit: 1073741824 }, cpu: { shares: 512 } };
    isEmpty(await call('Update', task.UpdateTaskRequest.encode({
      id: 't1', resources: { type_url: RESOURCES_TYPE, value: json(resources) }, annotations: { a: 'b' },
    }).finish()));
    isEmpty(await call('Update', task.UpdateTaskRequest.encode({ id: 't1' }).finish()));
    assert.deepEqual(logic.calls, [
      { method: 'update', args: ['t1', resources, { a: 'b' }, 'linux'] },
      { method: 'update', args: ['t1', undefined, {}, 'linux'] },
    ]);
    logic.calls.length = 0;
    const windows = 'types.containerd.io/opencontainers/runtime-spec/1/WindowsResources';
    isEmpty(await call('Update', task.UpdateTaskRequest.encode({ id: 't1', resources: { type_url: windows, value: json({}) } }).finish()));
    assert.deepEqual(logic.calls, [{ method: 'update', args: ['t1', {}, {}, 'windows'] }]);
    // runhcs verifyTaskUpdateResourcesType: anything else is refused before the logic
    await assert.rejects(
      call('Update', task.UpdateTaskRequest.encode({ id: 't1', resources: { type_url: 'types.containerd.io/x/Other', value: json({}) } }).finish()),
      (err: ShimError) => err.code === ErrorCode.InvalidArgument && /LinuxResources or WindowsResources, not 'types\.containerd\.io\/x\/Other'/.test(err.message),
    );
    assert.equal(logic.calls.length, 1);
    await assert.rejects(
      call('Update', task.UpdateTaskRequest.encode({ id: 't1', resources: { type_url: RESOURCES_TYPE, value: json(1) } }).finish()),
      (err: ShimError) => err.code === ErrorCode.InvalidArgument && /resources/.test(err.message),
    );
  });

  it('Stats answers an io.containerd.cgroups.v2.Metrics Any', async () => {
    logic.answers.stats = {
      pids: { current: 3, limit: 100 },
      cpu: { usage_usec: 1500, user_usec: 1000, system_usec: 500 },
      memory: { usage: 8 << 20, anon: 4096 },
    };
    const r = task.StatsResponse.decode(await call('Stats', task.StatsRequest.encode({ id: 't1' }).finish()));
    assert.deepEqual(logic.only, { method: 'stats', args: ['t1'] });
    assert.equal(r.stats?.type_url, 'io.containerd.cgroups.v2.Metrics');
    assert.equal(METRICS_V2_TYPE_URL, 'io.containerd.cgroups.v2.Metrics');
    const m = io.containerd.cgroups.v2.Metrics.decode(r.stats?.value ?? new Uint8Array());
    assert.deepEqual([Number(m.pids?.current), Number(m.pids?.limit)], [3, 100]);
    assert.deepEqual([Number(m.cpu?.usage_usec), Number(m.cpu?.user_usec), Number(m.cpu?.system_usec)], [1500, 1000, 500]);
    assert.deepEqual([Number(m.memory?.usage), Number(m.memory?.anon)], [8 << 20, 4096]);
  });

  it('Stats carries a uint64 beyond 2^53 exactly (an unlimited cgroup v1 limit, 2^63 - 4096)', async () => {
    const limit = 9223372036854771712n;
    logic.answers.stats = { memory: { usage_limit: limit } };
    const r = task.StatsResponse.decode(await call('Stats', task.StatsRequest.encode({ id: 't1' }).finish()));
    const varint = (v: bigint): number[] => {
      const out: number[] = [];
      for (; v >= 0x80n; v >>= 7n) out.push(Number((v & 0x7fn) | 0x80n));
      return [...out, Number(v)];
    };
    const memory = [0x88, 0x02, ...varint(limit)]; // MemoryStat.usage_limit = 33, varint
    assert.deepEqual([...(r.stats?.value ?? [])], [0x22, memory.length, ...memory]); // Metrics.memory = 4
  });

  it('Stats without any figure answers an empty Metrics', async () => {
    const r = task.StatsResponse.decode(await call('Stats', task.StatsRequest.encode({ id: 't1' }).finish()));
    const m = io.containerd.cgroups.v2.Metrics.decode(r.stats?.value ?? new Uint8Array());
    assert.equal(m.pids, null);
    assert.equal(m.memory, null);
  });

  it('Connect answers shim pid, task pid and version', async () => {
    logic.answers.connect = { shimPid: 4321, taskPid: 100, version: '' };
    const r = task.ConnectResponse.decode(await call('Connect', task.ConnectRequest.encode({ id: 't1' }).finish()));
    assert.deepEqual([r.shim_pid, r.task_pid, r.version], [4321, 100, '']);
    assert.deepEqual(logic.only, { method: 'connect', args: ['t1'] });
  });
});

describe('per-call log lines', () => {
  it('state-changing RPCs log at debug; the polled read-only ones (Connect, State, Pids, Stats) at trace', async () => {
    const { logger, lines } = captureLogger();
    const m = taskServiceMethods(new FakeTaskLogic(), logger, 'linux');
    for (const name of ['Connect', 'State', 'Pids', 'Stats', 'Start', 'Delete', 'Kill']) {
      await m[name]!(new Uint8Array(0), ctx(name)).catch(() => undefined);
    }
    const levelOf = (name: string): unknown => lines.find((l) => l['message'] === `task ${name}`)?.['level'];
    for (const name of ['Connect', 'State', 'Pids', 'Stats']) assert.equal(levelOf(name), 'trace', name);
    for (const name of ['Start', 'Delete', 'Kill']) assert.equal(levelOf(name), 'debug', name);
  });
});
