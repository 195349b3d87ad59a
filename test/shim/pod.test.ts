/**
 * Pods through the Task service (fakes below it): one shim and one utility VM per pod. The sandbox task
 * (the shim's own id) creates and owns the VM; workload tasks join it, are deleted alone, and never end
 * the shim; Kill(all) on the sandbox reaches every workload; the VM closes when the pause exits.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { ErrorCode } from '../../src/errdefs/index.js';
import { TaskService } from '../../src/shim/task-service.js';
import { ProcessStatus } from '../../src/shim/task/types.js';
import { FakeSandboxFactory, RecordingPublisher, silentLogger } from '../fakes/index.js';
import { rejectsWith } from './support/assert-error.js';
import { minimalSpec, NULL_IO, settle } from './support/task-harness.js';
import { createTransport } from '../../src/transport/index.js';

const POD = 'pod1';
const TYPE = 'io.kubernetes.cri.container-type';
const SBID = 'io.kubernetes.cri.sandbox-id';

async function bundleWith(annotations: Record<string, string>): Promise<string> {
  const bundle = await mkdtemp(join(tmpdir(), 'shim-pod-'));
  await mkdir(join(bundle, 'rootfs'));
  await writeFile(join(bundle, 'config.json'), JSON.stringify(minimalSpec({ annotations })));
  return bundle;
}

function podHarness() {
  const factory = new FakeSandboxFactory();
  const events = new RecordingPublisher();
  const exitRequests: boolean[] = [];
  const bundles: string[] = [];
  const svc = new TaskService({
    shimId: POD, namespace: 'k8s.io', log: silentLogger(), events, sandboxes: factory.factory, transport: createTransport(),
    requestExit: (now) => exitRequests.push(now),
  });
  const create = async (id: string, annotations: Record<string, string>) => {
    const bundle = await bundleWith(annotations);
    bundles.push(bundle);
    return svc.create({ id, bundle, rootfs: [], stdio: NULL_IO, checkpoint: '' });
  };
  const sandbox = () => create(POD, { [TYPE]: 'sandbox', [SBID]: POD });
  const workload = (id: string, pod = POD) => create(id, { [TYPE]: 'container', [SBID]: pod });
  return {
    svc, factory, events, exitRequests, create, sandbox, workload,
    vm: () => factory.last,
    container: (id: string) => {
      const c = factory.last.containers.find((x) => x.id === id);
      if (c === undefined) throw new Error(`no container ${id}`);
      return c;
    },
    async dispose() {
      for (const s of factory.sandboxes) for (const c of s.containers) for (const p of c.processes) if (!p.hasExited) p.exit(137);
      await svc.dispose().catch(() => undefined);
      for (const b of bundles) await rm(b, { recursive: true, force: true });
    },
  };
}

type PodHarness = ReturnType<typeof podHarness>;

async function runningPod(h: PodHarness, workloads: string[]): Promise<void> {
  await h.sandbox();
  await h.svc.start(POD, '');
  for (const id of workloads) {
    await h.workload(id);
    await h.svc.start(id, '');
  }
}

describe('pods: one shim and one utility VM per pod', () => {
  let h: PodHarness;
  afterEach(() => h?.dispose());

  it('workloads are created in the sandbox\'s VM: one VM for the pod, one container each', async () => {
    h = podHarness();
    await runningPod(h, ['c1', 'c2']);
    assert.equal(h.factory.requests.length, 1);
    assert.equal(h.factory.requests[0]?.taskId, POD);
    assert.deepEqual(h.vm().containers.map((c) => c.id), [POD, 'c1', 'c2']);
    assert.equal((await h.svc.state('c2', '')).status, ProcessStatus.Running);
    assert.equal((await h.svc.connect('c1')).taskPid, h.container('c1').process(0).pid);
  });

  it('a workload before its sandbox, of another pod, or while the pause is not running is refused', async () => {
    h = podHarness();
    await rejectsWith(h.workload('c1'), ErrorCode.InvalidArgument, /serves no task yet/);
    await h.sandbox();
    await rejectsWith(h.workload('c1'), ErrorCode.FailedPrecondition, /not running/);
    await h.svc.start(POD, '');
    await rejectsWith(h.workload('c2', 'other-pod'), ErrorCode.FailedPrecondition, /sandbox-id=pod1/);
    await rejectsWith(h.create('c3', {}), ErrorCode.FailedPrecondition, /container-type=container/);
    await h.workload('c1');
    await rejectsWith(h.workload('c1'), ErrorCode.AlreadyExists, /c1/);
    assert.deepEqual(h.vm().containers.map((c) => c.id), [POD, 'c1']);
  });

  it('bad CRI annotations are InvalidArgument naming them; a workload as the shim\'s own task is refused', async () => {
    h = podHarness();
    await rejectsWith(h.create(POD, { [TYPE]: 'sandbox' }), ErrorCode.InvalidArgument, /sandbox-id/);
    await rejectsWith(h.create(POD, { [SBID]: POD }), ErrorCode.InvalidArgument, /container-type/);
    await rejectsWith(h.create(POD, { [TYPE]: 'pause', [SBID]: POD }), ErrorCode.InvalidArgument, /'pause'/);
    await rejectsWith(h.create(POD, { [TYPE]: 'sandbox', [SBID]: 'x' }), ErrorCode.InvalidArgument, /must match/);
    await rejectsWith(h.create(POD, { [TYPE]: 'container', [SBID]: 'x' }), ErrorCode.InvalidArgument, /workload container of pod 'x'/);
    assert.equal(h.factory.requests.length, 0);
  });

  it('a workload\'s exit and Delete leave the VM and the pod; Delete unregisters it; Shutdown with its id is ignored', async () => {
    h = podHarness();
    await runningPod(h, ['c1']);
    h.container('c1').process(0).exit(3);
    assert.equal((await h.svc.wait('c1', '')).exitStatus, 3);
    assert.equal(h.container('c1').shutdowns.length, 1);
    assert.deepEqual(h.container('c1').shutdownOptions, [{ vmClosing: false }], 'the pod\'s VM lives on: DeleteContainerState');
    assert.equal(h.vm().closeCount, 0);
    await h.svc.delete('c1', '');
    await rejectsWith(h.svc.state('c1', ''), ErrorCode.NotFound, /c1/);
    await h.svc.shutdown('c1', false);
    assert.deepEqual(h.exitRequests, []);
    assert.equal((await h.svc.state(POD, '')).status, ProcessStatus.Running);
    await h.workload('c1'); // the id is free again
  });

  it('Kill(all) on the sandbox signals every running workload, then the pause', async () => {
    h = podHarness();
    await runningPod(h, ['c1', 'c2']);
    h.container('c2').process(0).exit(0);
    await h.svc.wait('c2', '');
    await h.svc.kill(POD, '', 9, true);
    assert.deepEqual(h.container('c1').process(0).signals, [9]);
    assert.deepEqual(h.container('c2').process(0).signals, []);
    assert.deepEqual(h.container(POD).process(0).signals, [9]);
  });

  it('Kill(all) on a workload signals that workload only', async () => {
    h = podHarness();
    await runningPod(h, ['c1']);
    await h.svc.kill('c1', '', 15, true);
    assert.deepEqual(h.container('c1').process(0).signals, [15]);
    assert.deepEqual(h.container(POD).process(0).signals, []);
  });

  it('the pause\'s exit closes the VM; the workloads are marked exited; Shutdown with the pod id ends the shim after its Delete', async () => {
    h = podHarness();
    await runningPod(h, ['c1']);
    h.container(POD).process(0).exit(0);
    await h.svc.wait(POD, '');
    assert.equal(h.vm().closeCount, 1);
    assert.equal((await h.svc.wait('c1', '')).exitStatus, 1);
    await h.svc.shutdown(POD, false);
    assert.deepEqual(h.exitRequests, []);
    await h.svc.delete('c1', '');
    await h.svc.delete(POD, '');
    await settle();
    await h.svc.shutdown(POD, false);
    assert.deepEqual(h.exitRequests, [false]);
  });

  it('Update of a workload is its ContainerConstraints (LinuxResources only); of the sandbox, the VM', async () => {
    h = podHarness();
    await runningPod(h, ['c1']);
    await h.svc.update('c1', { memory: { limit: 1 << 28 } }, {}, 'linux');
    assert.deepEqual(h.container('c1').updates, [{ memory: { limit: 1 << 28 } }]);
    await rejectsWith(h.svc.update('c1', { memory: { limit: 1 << 28 } }, {}, 'windows'), ErrorCode.InvalidArgument, /LinuxResources/);
    await h.svc.update(POD, { memory: { limit: 1 << 30 } }, {}, 'linux');
    assert.deepEqual(h.factory.last.vmUpdates.map((u) => u.resources), [{ memoryLimitBytes: 1 << 30 }]);
    assert.deepEqual(h.container(POD).updates, []);
  });

  it('Stats and Pids are per container', async () => {
    h = podHarness();
    await runningPod(h, ['c1']);
    const pids = await h.svc.pids('c1');
    assert.deepEqual(pids.map((p) => p.pid), [h.container('c1').process(0).pid]);
  });
});
