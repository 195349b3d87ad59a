/**
 * The Sandbox service's edge: CreateSandbox reads the pod's hostname and annotations from the
 * runtime.v1.PodSandboxConfig containerd's CRI passes as options (the request's annotations win), ignores
 * options of another type, and refuses a PodSandboxConfig that does not decode; StartSandbox answers pid 0.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode, ShimError } from '../../src/errdefs/index.js';
import { containerd, io, runtime } from '../../src/proto/index.js';
import { PodSandbox, SANDBOX_SERVICE_V1, sandboxServiceMethods } from '../../src/shim/sandbox-api/index.js';
import type { RpcContext } from '../../src/ttrpc/index.js';
import { FakeSandboxFactory, silentLogger } from '../fakes/index.js';

const sb = containerd.runtime.sandbox.v1;
const ID = 'pod1';

function setup() {
  const factory = new FakeSandboxFactory();
  const pod = new PodSandbox({
    shimId: ID, log: silentLogger(), sandboxes: factory.factory, workloads: {
      killAll: async () => undefined,
      podStats: async () => [{ pids: { current: 2, limit: 0 }, cpu: { usage_usec: 1234, user_usec: 1000, system_usec: 234 }, memory: { usage: 65536, anon: 4096 } }],
    },
    requestExit: () => undefined, prepareInfraRootfs: async () => undefined,
  });
  const methods = sandboxServiceMethods(pod, silentLogger());
  const call = (method: string, payload: Uint8Array): Promise<Uint8Array> => {
    const h = methods[method];
    assert.ok(h, `no handler for ${method}`);
    const ctx: RpcContext = { service: SANDBOX_SERVICE_V1, method, streamId: 1, metadata: new Map(), signal: new AbortController().signal, deadline: undefined };
    return h(payload, ctx);
  };
  return { factory, pod, call };
}

const config = (o: Record<string, unknown>) => ({
  type_url: 'type.googleapis.com/runtime.v1.PodSandboxConfig', value: runtime.v1.PodSandboxConfig.encode(o).finish(),
});

describe('Sandbox service edge', () => {
  it('CreateSandbox: hostname and annotations from the PodSandboxConfig reach the VM and the pod\'s sandbox container', async () => {
    const { factory, call } = setup();
    await call('CreateSandbox', sb.CreateSandboxRequest.encode({
      sandbox_id: ID, bundle_path: '/b', options: config({ hostname: 'web-0', log_directory: '/logs', annotations: { 'io.microsoft.virtualmachine.computetopology.memory.sizeinmb': '1024', k: 'pod' } }),
      annotations: { k: 'request' },
    }).finish());
    const started = sb.StartSandboxResponse.decode(await call('StartSandbox', sb.StartSandboxRequest.encode({ sandbox_id: ID }).finish()));
    assert.equal(started.pid ?? 0, 0, 'no pause process');
    assert.ok(started.created_at);
    assert.deepEqual(factory.requests[0]?.annotations, { 'io.microsoft.virtualmachine.computetopology.memory.sizeinmb': '1024', k: 'request' });
    const infra = factory.last.specs[0] as { hostname: string; annotations: Record<string, string> };
    assert.equal(infra.hostname, 'web-0');
    assert.equal(infra.annotations['io.kubernetes.cri.container-type'], 'sandbox');
  });

  it('CreateSandbox: options of another type carry no pod config; a PodSandboxConfig that does not decode is InvalidArgument', async () => {
    const a = setup();
    await a.call('CreateSandbox', sb.CreateSandboxRequest.encode({ sandbox_id: ID, bundle_path: '/b', options: { type_url: 'x.y.Other', value: Uint8Array.of(1, 2) } }).finish());
    await a.call('StartSandbox', sb.StartSandboxRequest.encode({ sandbox_id: ID }).finish());
    assert.deepEqual(a.factory.requests[0]?.annotations, {});
    assert.equal((a.factory.last.specs[0] as { hostname: string }).hostname, '');

    const b = setup();
    const bad = { type_url: 'type.googleapis.com/runtime.v1.PodSandboxConfig', value: Uint8Array.of(0x12, 0x05, 0x61) }; // hostname, 5 bytes promised, 1 sent
    await assert.rejects(b.call('CreateSandbox', sb.CreateSandboxRequest.encode({ sandbox_id: ID, bundle_path: '/b', options: bad }).finish()),
      (err: unknown) => err instanceof ShimError && err.code === ErrorCode.InvalidArgument && /runtime\.v1\.PodSandboxConfig/.test(err.message));
    await assert.rejects(b.call('StartSandbox', sb.StartSandboxRequest.encode({ sandbox_id: ID }).finish()),
      (err: unknown) => err instanceof ShimError && err.code === ErrorCode.NotFound, 'the refused sandbox was not created');
  });

  it('SandboxMetrics: a containerd.types.Metric{timestamp, id, io.containerd.cgroups.v2.Metrics} while running; NotFound before start', async () => {
    const { call } = setup();
    const req = sb.SandboxMetricsRequest.encode({ sandbox_id: ID }).finish();
    await call('CreateSandbox', sb.CreateSandboxRequest.encode({ sandbox_id: ID, bundle_path: '/b' }).finish());
    await assert.rejects(call('SandboxMetrics', req), (err: unknown) => err instanceof ShimError && err.code === ErrorCode.NotFound);
    await call('StartSandbox', sb.StartSandboxRequest.encode({ sandbox_id: ID }).finish());
    const m = sb.SandboxMetricsResponse.decode(await call('SandboxMetrics', req)).metrics;
    assert.equal(m?.id, ID);
    assert.ok((m?.timestamp?.seconds ?? 0) > 0);
    assert.equal(m?.data?.type_url, 'io.containerd.cgroups.v2.Metrics');
    const v2 = io.containerd.cgroups.v2.Metrics.decode(m?.data?.value ?? new Uint8Array());
    assert.equal(Number(v2.cpu?.usage_usec), 1234);
    assert.equal(Number(v2.memory?.usage), 65536);
    assert.ok(Number(v2.memory?.usage_limit) > 2 ** 62, "no limit: cgroup v2 max (CRI: unlimited), not 0");
    assert.equal(Number(v2.pids?.current), 2);
  });
});
