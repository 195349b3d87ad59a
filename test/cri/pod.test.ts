/**
 * The CRI tier: a Kubernetes pod through containerd 1.6.20's CRI plugin (runtime handler `lcow`) on our
 * shim, driven over CRI gRPC with the real runtime.v1 api.proto. One pod, three containers (one exits 3),
 * ExecSync, ContainerStatus, StopContainer, container logs in CRI format, Stop/RemovePodSandbox; exactly
 * one shim daemon and one utility VM for the pod; pid=POD sharing visible; nothing left afterwards.
 * The pause image has no /etc at all (the sandbox's CRI resolv.conf mount needs its mount point made).
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeBusyboxRootfs, NEEDS_ROOT, PrivateContainerd, REPO } from '../integration/harness.js';
import { CriClient, criApiProto } from './cri-client.js';
import { CRI_HANDLER, startCriContainerd, type CriImage } from './cri-containerd.js';

type Json = Record<string, any>; // CRI replies, read field by field

const PAUSE_ARG = '2147483';
const NS_OPTIONS = { network: 'NODE', pid: 'POD', ipc: 'POD' };

/** Shim daemons (`serve`) of this containerd. */
function shimDaemons(ctd: PrivateContainerd): string[] {
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((pid) => {
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      return args.some((a) => a.endsWith('containerd-shim-lcow-v1') || a.endsWith('containerd-shim-lcow-v1.js')) && args.includes('serve') && args.includes(ctd.sock);
    } catch {
      return false;
    }
  });
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe('CRI: a pod on io.containerd.lcow.v1 through containerd 1.6 CRI', { skip: NEEDS_ROOT, timeout: 600_000 }, () => {
  const ctd = new PrivateContainerd();
  let cri: CriClient;
  const podLogs = join(ctd.tmp, 'pod-logs');

  before(async () => {
    const proto = criApiProto(REPO);
    const pauseRoot = join(ctd.tmp, 'pause-rootfs');
    mkdirSync(join(pauseRoot, 'bin'), { recursive: true });
    copyFileSync('/bin/busybox', join(pauseRoot, 'bin', 'busybox'));
    const pause: CriImage = { ref: 'docker.io/lcowtest/pause:1', rootfs: pauseRoot, config: { Entrypoint: ['/bin/busybox', 'sleep', PAUSE_ARG] } };
    const busybox: CriImage = { ref: 'docker.io/lcowtest/busybox:1', rootfs: makeBusyboxRootfs(join(ctd.tmp, 'busybox-rootfs')), config: { Cmd: ['/bin/sh'], Env: ['PATH=/bin'] } };
    await startCriContainerd(ctd, 'containerd', pause, [busybox]);
    cri = new CriClient(proto, ctd.sock);
  });

  after(async () => {
    cri?.close();
    await ctd.stop();
  });

  const podConfig = (name: string) => ({
    metadata: { name, uid: `uid-${name}`, namespace: 'default', attempt: 0 },
    hostname: '', // runc 1.1.5 cannot set a hostname without a UTS namespace, which node-network pods do not get
    log_directory: join(podLogs, name),
    linux: { security_context: { namespace_options: NS_OPTIONS } },
  });

  /** RunPodSandbox; returns the pod id and a function that creates and starts a container in it. */
  async function runPod(name: string) {
    const run: Json = await cri.call('RunPodSandbox', { config: podConfig(name), runtime_handler: CRI_HANDLER });
    const podId: string = run.pod_sandbox_id;
    assert.match(podId, /^[0-9a-f]{64}$/);
    const podStatus: Json = await cri.call('PodSandboxStatus', { pod_sandbox_id: podId });
    assert.equal(podStatus.status.state, 'SANDBOX_READY');
    const container = async (cname: string, command: string[]): Promise<string> => {
      const config = {
        metadata: { name: cname, attempt: 0 }, image: { image: 'docker.io/lcowtest/busybox:1' }, command, log_path: `${cname}.log`,
        linux: { security_context: { namespace_options: NS_OPTIONS } },
      };
      const r: Json = await cri.call('CreateContainer', { pod_sandbox_id: podId, config, sandbox_config: podConfig(name) });
      await cri.call('StartContainer', { container_id: r.container_id });
      return r.container_id;
    };
    return { podId, container };
  }

  it('runs a pod of three containers in one shim and one utility VM, and leaves nothing behind', async () => {
    const { podId, container } = await runPod('pod1');
    const c1 = await container('c1', ['/bin/sh', '-c', 'echo hello from c1; echo to stderr >&2; exec sleep 3600']);
    const c2 = await container('c2', ['/bin/sh', '-c', 'exit 3']);
    const c3 = await container('c3', ['/bin/sleep', '3600']);

    // One shim daemon and one utility VM serve the whole pod.
    assert.equal(shimDaemons(ctd).length, 1, `shim daemons: ${shimDaemons(ctd).join(', ')}`);
    assert.deepEqual(readdirSync(ctd.vmRoot).length, 1, `VM dirs: ${readdirSync(ctd.vmRoot).join(', ')}`);

    // c2 exits 3; ContainerStatus says so.
    const c2Status = await until('c2 to exit', async () => {
      const s: Json = (await cri.call<Json>('ContainerStatus', { container_id: c2 })).status;
      return s.state === 'CONTAINER_EXITED' ? s : undefined;
    });
    assert.equal(c2Status.exit_code, 3);
    const c1Status: Json = (await cri.call<Json>('ContainerStatus', { container_id: c1 })).status;
    assert.equal(c1Status.state, 'CONTAINER_RUNNING');
    assert.equal(c1Status.metadata.name, 'c1');

    // ContainerStats: the pod's shim answers for each container (task Stats of that container).
    const stats: Json = (await cri.call<Json>('ContainerStats', { container_id: c1 })).stats;
    assert.equal(stats.attributes.id, c1);
    assert.ok(Number(stats.memory?.working_set_bytes?.value) > 0, JSON.stringify(stats));

    // ExecSync: output, error stream and exit code.
    const ex: Json = await cri.call('ExecSync', { container_id: c1, cmd: ['/bin/sh', '-c', 'echo out; echo err >&2; exit 7'], timeout: 30 });
    assert.equal(Buffer.from(ex.stdout).toString(), 'out\n');
    assert.equal(Buffer.from(ex.stderr).toString(), 'err\n');
    assert.equal(ex.exit_code, 7);

    // pid=POD: the workload sees the pause as pid 1 of the pod's pid namespace.
    const pid1: Json = await cri.call('ExecSync', { container_id: c3, cmd: ['/bin/cat', '/proc/1/cmdline'], timeout: 30 });
    assert.equal(pid1.exit_code, 0, Buffer.from(pid1.stderr).toString());
    assert.deepEqual(Buffer.from(pid1.stdout).toString().split('\0').filter(Boolean), ['/bin/busybox', 'sleep', PAUSE_ARG]);

    // Logs in CRI format: <RFC3339Nano> <stream> <tag> <line>.
    const log = await until('c1 log lines', async () => {
      const text = readFileSync(join(podLogs, 'pod1', 'c1.log'), 'utf8');
      return text.split('\n').length > 2 ? text : undefined;
    });
    const lines = log.trim().split('\n').sort((a, b) => a.split(' ')[1]!.localeCompare(b.split(' ')[1]!));
    assert.equal(lines.length, 2, log);
    assert.match(lines[0]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+(Z|[+-]\d\d:\d\d) stderr F to stderr$/);
    assert.match(lines[1]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+(Z|[+-]\d\d:\d\d) stdout F hello from c1$/);

    // StopContainer: c3 stopped (SIGTERM, then SIGKILL after the timeout), the pod and c1 still running.
    await cri.call('StopContainer', { container_id: c3, timeout: 2 });
    assert.equal((await cri.call<Json>('ContainerStatus', { container_id: c3 })).status.state, 'CONTAINER_EXITED');
    assert.equal((await cri.call<Json>('ContainerStatus', { container_id: c1 })).status.state, 'CONTAINER_RUNNING');
    await cri.call('RemoveContainer', { container_id: c3 });
    assert.equal(shimDaemons(ctd).length, 1, 'removing a workload does not end the pod shim');

    // Stop and remove the pod: every container stops, the shim and the VM go.
    await cri.call('StopPodSandbox', { pod_sandbox_id: podId });
    assert.equal((await cri.call<Json>('ContainerStatus', { container_id: c1 })).status.state, 'CONTAINER_EXITED');
    await cri.call('RemovePodSandbox', { pod_sandbox_id: podId });
    const listed: Json = await cri.call('ListContainers', { filter: { pod_sandbox_id: podId } });
    assert.deepEqual(listed.containers, []);
    const left = await ctd.settled(20_000);
    assert.deepEqual(left, [], `left behind:\n${left.join('\n')}\n--- containerd log tail ---\n${ctd.log().slice(-4000)}`);
    assert.deepEqual(shimDaemons(ctd), []);
  });

  it('two pods at once: one shim and one utility VM each', async () => {
    const a = await runPod('pod-a');
    const b = await runPod('pod-b');
    await a.container('a1', ['/bin/sleep', '3600']);
    await b.container('b1', ['/bin/sleep', '3600']);
    await b.container('b2', ['/bin/sleep', '3600']);
    assert.equal(shimDaemons(ctd).length, 2, `shim daemons: ${shimDaemons(ctd).join(', ')}`);
    assert.equal(readdirSync(ctd.vmRoot).length, 2, `VM dirs: ${readdirSync(ctd.vmRoot).join(', ')}`);
    for (const p of [a, b]) {
      await cri.call('StopPodSandbox', { pod_sandbox_id: p.podId });
      await cri.call('RemovePodSandbox', { pod_sandbox_id: p.podId });
    }
    const left = await ctd.settled(20_000);
    assert.deepEqual(left, [], `left behind:\n${left.join('\n')}\n--- containerd log tail ---\n${ctd.log().slice(-4000)}`);
  });
});
