import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { ErrorCode, ShimError, invalidArgument } from '../../../src/errdefs/index.js';
import { containerd } from '../../../src/proto/index.js';
import { TtrpcClient } from '../../../src/ttrpc/index.js';
import { TASK_EVENT_TOPICS, connectTtrpc, createEventPublisher } from '../../../src/shim/events/index.js';
import type { EventPublisher, EventPublisherOptions, TaskEvent } from '../../../src/shim/events/index.js';
import { FakeEventsServer, captureLog, until } from './fake-events-server.js';
import type { Envelope } from './fake-events-server.js';
import { platformDial } from '../../fakes/platform-dial.js';

const ev = containerd.events;
const NOW = new Date(Date.UTC(2024, 4, 6, 7, 8, 9, 123));
const EXITED = new Date(Date.UTC(2024, 4, 6, 7, 8, 1, 500));

/** A regression must fail, not hang: the sockets and servers keep the event loop alive. */
const T = { timeout: 30_000 };
const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function setup(
  overrides: Partial<EventPublisherOptions> = {},
): Promise<{ server: FakeEventsServer; pub: EventPublisher; logs: ReturnType<typeof captureLog> }> {
  const server = await FakeEventsServer.start();
  const logs = captureLog();
  const pub = createEventPublisher({
    ttrpcAddress: server.address,
    namespace: 'k8s.io',
    log: logs.log,
    connect: connectTtrpc(platformDial),
    retryDelayMs: () => 0,
    now: () => NOW,
    ...overrides,
  });
  cleanup.push(() => server.dispose());
  cleanup.push(() => pub.close());
  return { server, pub, logs };
}

const exit = (n: number): TaskEvent => ({ type: 'exit', containerId: 'c1', id: `e${n}`, pid: n, exitStatus: 0, exitedAt: EXITED });
/** The decoded message reduced to the keys of `shape` (recursively) as plain data, for deepEqual. */
function pick(value: unknown, shape: unknown): unknown {
  if (Array.isArray(shape)) return Array.isArray(value) ? value.map((v, i) => pick(v, shape[i])) : value;
  if (typeof shape !== 'object' || shape === null || typeof value !== 'object' || value === null) return value;
  const rec = value as Record<string, unknown>;
  return Object.fromEntries(Object.entries(shape).map(([k, v]) => [k, pick(rec[k], v)]));
}
const idOf = (e: Envelope): string => ev.TaskExit.decode(e.event?.value ?? new Uint8Array()).id;

/** Each event type: the Any it must produce, decoded back. */
const CASES: Array<{ event: TaskEvent; typeUrl: string; decode: (v: Uint8Array) => unknown; expected: unknown }> = [
  {
    event: {
      type: 'create',
      containerId: 'c1',
      bundle: '/run/b/c1',
      rootfs: [{ type: 'overlay', source: 'overlay', options: ['lowerdir=/l', 'upperdir=/u'] }],
      io: { stdin: '/f/c1-stdin', stdout: '/f/c1-stdout', stderr: '', terminal: true },
      checkpoint: '',
      pid: 42,
    },
    typeUrl: 'containerd.events.TaskCreate',
    decode: (v) => ev.TaskCreate.decode(v),
    expected: {
      container_id: 'c1',
      bundle: '/run/b/c1',
      rootfs: [{ type: 'overlay', source: 'overlay', target: '', options: ['lowerdir=/l', 'upperdir=/u'] }],
      io: { stdin: '/f/c1-stdin', stdout: '/f/c1-stdout', stderr: '', terminal: true },
      checkpoint: '',
      pid: 42,
    },
  },
  {
    event: { type: 'start', containerId: 'c1', pid: 42 },
    typeUrl: 'containerd.events.TaskStart',
    decode: (v) => ev.TaskStart.decode(v),
    expected: { container_id: 'c1', pid: 42 },
  },
  {
    event: { type: 'exit', containerId: 'c1', id: 'c1', pid: 42, exitStatus: 137, exitedAt: EXITED },
    typeUrl: 'containerd.events.TaskExit',
    decode: (v) => ev.TaskExit.decode(v),
    expected: { container_id: 'c1', id: 'c1', pid: 42, exit_status: 137, exited_at: { seconds: EXITED.getTime() / 1000 - 0.5, nanos: 500_000_000 } },
  },
  {
    event: { type: 'delete', containerId: 'c1', id: 'c1', pid: 42, exitStatus: 3, exitedAt: EXITED },
    typeUrl: 'containerd.events.TaskDelete',
    decode: (v) => ev.TaskDelete.decode(v),
    expected: { container_id: 'c1', pid: 42, exit_status: 3, exited_at: { seconds: EXITED.getTime() / 1000 - 0.5, nanos: 500_000_000 }, id: 'c1' },
  },
  {
    event: { type: 'exec-added', containerId: 'c1', execId: 'x1' },
    typeUrl: 'containerd.events.TaskExecAdded',
    decode: (v) => ev.TaskExecAdded.decode(v),
    expected: { container_id: 'c1', exec_id: 'x1' },
  },
  {
    event: { type: 'exec-started', containerId: 'c1', execId: 'x1', pid: 77 },
    typeUrl: 'containerd.events.TaskExecStarted',
    decode: (v) => ev.TaskExecStarted.decode(v),
    expected: { container_id: 'c1', exec_id: 'x1', pid: 77 },
  },
  {
    event: { type: 'oom', containerId: 'c1' },
    typeUrl: 'containerd.events.TaskOOM',
    decode: (v) => ev.TaskOOM.decode(v),
    expected: { container_id: 'c1' },
  },
  {
    event: { type: 'paused', containerId: 'c1' },
    typeUrl: 'containerd.events.TaskPaused',
    decode: (v) => ev.TaskPaused.decode(v),
    expected: { container_id: 'c1' },
  },
  {
    event: { type: 'resumed', containerId: 'c1' },
    typeUrl: 'containerd.events.TaskResumed',
    decode: (v) => ev.TaskResumed.decode(v),
    expected: { container_id: 'c1' },
  },
  {
    event: { type: 'checkpointed', containerId: 'c1', checkpoint: '/ckpt' },
    typeUrl: 'containerd.events.TaskCheckpointed',
    decode: (v) => ev.TaskCheckpointed.decode(v),
    expected: { container_id: 'c1', checkpoint: '/ckpt' },
  },
];

describe('event publisher against a real ttrpc Events server', () => {
  it('forwards each event type as Envelope{timestamp, namespace, topic, Any{bare type_url, message}}', T, async () => {
    const { server, pub } = await setup();
    for (const c of CASES) pub.publish(c.event);
    await server.waitDelivered(CASES.length);
    assert.equal(server.calls.length, CASES.length);
    CASES.forEach((c, i) => {
      const rec = server.delivered[i];
      assert.ok(rec);
      const env = rec.envelope;
      assert.equal(env.topic, TASK_EVENT_TOPICS[c.event.type]);
      assert.equal(env.topic, `/tasks/${c.event.type}`);
      assert.equal(env.namespace, 'k8s.io');
      assert.deepEqual(rec.namespaceMetadata, ['k8s.io']);
      assert.deepEqual(pick(env.timestamp, { seconds: 0, nanos: 0 }), { seconds: Math.floor(NOW.getTime() / 1000), nanos: 123_000_000 });
      assert.equal(env.event?.type_url, c.typeUrl);
      assert.deepEqual(pick(c.decode(env.event?.value ?? new Uint8Array()), c.expected), c.expected);
    });
  });

  it('stamps the envelope with the time of publish from the real clock (never zero)', T, async () => {
    const before = Date.now();
    const { server, pub } = await setup({ now: undefined });
    pub.publish(exit(1));
    await server.waitDelivered(1);
    const ts = server.delivered[0]?.envelope.timestamp;
    assert.ok(ts);
    const ms = (ts.seconds ?? 0) * 1000 + Math.floor((ts.nanos ?? 0) / 1e6);
    assert.ok(ms >= before - 1 && ms <= Date.now(), `timestamp ${ms} outside [${before}, now]`);
  });

  it('replaces a zero clock reading by 1 ns (containerd rejects a zero timestamp)', T, async () => {
    const { server, pub } = await setup({ now: () => new Date(0) });
    pub.publish(exit(1));
    await server.waitDelivered(1);
    const ts = server.delivered[0]?.envelope.timestamp;
    assert.ok(ts);
    assert.equal(Object.hasOwn(ts, 'seconds'), false, 'seconds = 0 is not on the wire');
    assert.equal(ts.nanos, 1);
  });

  it('delivers 100 events strictly in publish order while the server answers after random delays', T, async () => {
    const { server, pub } = await setup();
    server.behaviour = () => new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 3)));
    for (let n = 0; n < 100; n++) pub.publish(exit(n));
    await server.waitDelivered(100);
    assert.deepEqual(server.delivered.map((r) => idOf(r.envelope)), Array.from({ length: 100 }, (_, n) => `e${n}`));
    assert.equal(server.calls.length, 100);
  });

  it('keeps strict order across failed attempts: a retried event is never overtaken', T, async () => {
    const { server, pub } = await setup();
    server.behaviour = (_env, call) => {
      if (call % 7 === 0) throw new ShimError(ErrorCode.Unavailable, 'busy');
    };
    for (let n = 0; n < 100; n++) pub.publish(exit(n));
    await server.waitDelivered(100);
    assert.deepEqual(server.delivered.map((r) => idOf(r.envelope)), Array.from({ length: 100 }, (_, n) => `e${n}`));
    assert.ok(server.calls.length > 100);
  });

  it('reconnects after the server restarts while the publisher is idle', T, async () => {
    const { server, pub } = await setup({ maxRetries: 0 });
    pub.publish(exit(1));
    await server.waitDelivered(1);
    await server.restart();
    pub.publish(exit(2));
    await server.waitDelivered(2);
    assert.deepEqual(server.delivered.map((r) => idOf(r.envelope)), ['e1', 'e2']);
  });

  it('re-dials once and repeats the call when the connection closes under a Forward (no retry needed)', T, async () => {
    let dials = 0;
    const { server, pub, logs } = await setup({
      maxRetries: 0,
      connect: (address, signal) => {
        dials++;
        return TtrpcClient.connect(address, { dial: platformDial, signal });
      },
    });
    server.behaviour = (_env, call) =>
      call === 1
        ? new Promise<void>((_resolve, reject) => {
            server.dropConnections();
            setTimeout(() => reject(new Error('unreachable reply')), 50);
          })
        : undefined;
    pub.publish(exit(1));
    await server.waitDelivered(1);
    assert.equal(dials, 2);
    assert.deepEqual(server.calls.map((r) => idOf(r.envelope)), ['e1', 'e1']);
    assert.equal(logs.has('error', 'dropping'), false);
  });

  it('retries a failing event maxRetries times with the injected delays, then drops it and moves on', T, async () => {
    const delays: number[] = [];
    const { server, pub, logs } = await setup({ maxRetries: 3, retryDelayMs: (a) => (delays.push(a), 0) });
    server.behaviour = (env) => {
      if (idOf(env) === 'e1') throw new ShimError(ErrorCode.Unavailable, 'temporarily unavailable');
    };
    pub.publish(exit(1));
    pub.publish(exit(2));
    await server.waitDelivered(1);
    assert.deepEqual(server.calls.map((r) => idOf(r.envelope)), ['e1', 'e1', 'e1', 'e1', 'e2']);
    assert.deepEqual(server.delivered.map((r) => idOf(r.envelope)), ['e2']);
    assert.deepEqual(delays, [1, 2, 3]);
    await until(() => logs.has('error', 'dropping event'));
    assert.ok(logs.lines.some((l) => l.includes('topic=/tasks/exit') && l.includes('attempts=4')));
  });

  it('uses 1 s × attempt as the default retry delay', T, async () => {
    let slept = 0;
    const server = await FakeEventsServer.start();
    cleanup.push(() => server.dispose());
    server.behaviour = (_env, call) => {
      if (call === 1) throw new ShimError(ErrorCode.Unavailable, 'once');
    };
    const realSetTimeout = globalThis.setTimeout;
    // Observe the requested delay without waiting for it: the first retry must ask for 1000 ms.
    const spy = ((fn: () => void, ms?: number) => {
      if (ms === 1000) {
        slept = ms;
        return realSetTimeout(fn, 0);
      }
      return realSetTimeout(fn, ms);
    }) as typeof setTimeout;
    globalThis.setTimeout = spy;
    cleanup.push(() => void (globalThis.setTimeout = realSetTimeout));
    const pub = createEventPublisher({ ttrpcAddress: server.address, namespace: 'default', log: captureLog().log, connect: connectTtrpc(platformDial) });
    cleanup.push(() => pub.close());
    pub.publish(exit(1));
    await server.waitDelivered(1);
    assert.equal(slept, 1000);
  });

  it('drops an event containerd rejects as InvalidArgument without retrying', T, async () => {
    const { server, pub, logs } = await setup({ maxRetries: 5 });
    server.behaviour = (env) => {
      if (idOf(env) === 'e1') throw invalidArgument('timestamp must be set on forwarded event');
    };
    pub.publish(exit(1));
    pub.publish(exit(2));
    await server.waitDelivered(1);
    assert.deepEqual(server.calls.map((r) => idOf(r.envelope)), ['e1', 'e2']);
    await until(() => logs.has('error', 'dropping event'));
  });

  it('times a Forward out after forwardTimeoutMs and retries it', T, async () => {
    const { server, pub } = await setup({ forwardTimeoutMs: 100 });
    server.behaviour = (_env, call, ctx) =>
      call === 1 ? new Promise<void>((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))) : undefined;
    pub.publish(exit(1));
    pub.publish(exit(2));
    await server.waitDelivered(2);
    assert.deepEqual(server.calls.map((r) => idOf(r.envelope)), ['e1', 'e1', 'e2']);
    assert.deepEqual(server.delivered.map((r) => idOf(r.envelope)), ['e1', 'e2']);
  });

  it('retries while nobody listens, drops after the budget, and delivers once the server is back', T, async () => {
    const { server, pub, logs } = await setup({ maxRetries: 2 });
    server.stop();
    pub.publish(exit(1));
    await until(() => logs.has('error', 'dropping event'));
    assert.equal(logs.lines.filter((l) => l.includes('will retry')).length, 2);
    await server.listen();
    pub.publish(exit(2));
    await server.waitDelivered(1);
    assert.deepEqual(server.calls.map((r) => idOf(r.envelope)), ['e2']);
  });

  it('close() drains the queue before closing the connection, then ignores new events', T, async () => {
    const { server, pub, logs } = await setup();
    server.behaviour = () => new Promise((resolve) => setTimeout(resolve, 5));
    for (let n = 0; n < 20; n++) pub.publish(exit(n));
    await pub.close();
    assert.equal(server.delivered.length, 20);
    pub.publish(exit(99));
    await pub.close();
    await until(() => logs.has('warn', 'publisher closed'));
    assert.equal(server.calls.length, 20);
  });

  it('close() gives up after closeTimeoutMs when the server never answers, dropping what is left', T, async () => {
    const { server, pub, logs } = await setup({ closeTimeoutMs: 100, forwardTimeoutMs: 60_000 });
    server.behaviour = (_env, _call, ctx) => new Promise<void>((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));
    pub.publish(exit(1));
    pub.publish(exit(2));
    await until(() => server.calls.length === 1);
    await pub.close();
    await until(() => logs.has('warn', 'dropping undelivered events'));
    assert.ok(logs.lines.some((l) => l.includes('count=2')));
    assert.equal(server.calls.length, 1);
  });

  it('never throws into the caller: an event the wire cannot carry is logged and skipped', T, async () => {
    const { server, pub, logs } = await setup();
    assert.doesNotThrow(() => pub.publish({ type: 'start', containerId: 'c1', pid: -1 }));
    assert.doesNotThrow(() => pub.publish({ type: 'exit', containerId: 'c1', id: 'c1', pid: 1, exitStatus: 2 ** 32, exitedAt: EXITED }));
    assert.doesNotThrow(() => pub.publish({ type: 'bogus', containerId: 'c1' } as unknown as TaskEvent));
    pub.publish(exit(3));
    await server.waitDelivered(1);
    assert.deepEqual(server.calls.map((r) => idOf(r.envelope)), ['e3']);
    await until(() => logs.lines.filter((l) => l.includes('cannot encode event')).length === 3);
    assert.ok(logs.lines.some((l) => l.includes('pid must be a uint32, got -1')));
  });

  it('without a TTRPC_ADDRESS logs each event at debug level and drops it', T, async () => {
    const logs = captureLog();
    const pub = createEventPublisher({ ttrpcAddress: '', namespace: 'default', log: logs.log, connect: connectTtrpc(platformDial) });
    pub.publish(exit(1));
    await pub.close();
    await until(() => logs.has('debug', 'no TTRPC_ADDRESS'));
  });
});
