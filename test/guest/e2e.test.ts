/**
 * End to end: the host's GCS bridge (src/gcs connectGuest) ⇄ the real guest agent (src/guest/main.js as a
 * child process) over unix sockets, running busybox containers with real runc. The container root comes
 * through the Plan9 share contract (symlink + MappedDirectory) and CombinedLayers (overlay + scratch).
 * Needs root, runc and /bin/busybox; skipped otherwise.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { connectGuest, containerConfig, GcsRpcError, type Container, type GuestConnection } from '../../src/gcs/index.js';
import { LinuxGcsVsockPort, stringifyExact } from '../../src/gcs/protocol/index.js';
import { buildBusyboxRootfs, cleanupVmDir, haveRunc, ociSpec, startGuest, tempDir, vmCgroupDirs, type GuestChild } from './support/fixtures.js';
import { UnixListener } from './support/unix-listener.js';

const skip = haveRunc() ? false : 'needs root, runc and /bin/busybox';

function readAll(s: Duplex | undefined): Promise<string> {
  if (!s) return Promise.resolve('');
  // Process closes an output as soon as it ended (the stdio close handshake), maybe before this is called.
  if (s.readableEnded) return Promise.resolve('');
  return new Promise((resolve) => {
    let out = '';
    s.on('data', (d: Buffer) => (out += d.toString('utf8')));
    s.once('end', () => resolve(out));
    s.once('close', () => resolve(out));
    s.once('error', () => resolve(out));
  });
}

function hresultOf(err: unknown): number | undefined {
  return err instanceof GcsRpcError ? err.result : undefined;
}

describe('guest agent end to end (runc + busybox)', { skip, timeout: 180_000 }, () => {
  let vmDir = '';
  let shareDir = '';
  let guest: GuestChild;
  let gcsListener: UnixListener;
  let gc: GuestConnection;
  const created: string[] = [];
  const vsock = (port: number): string => join(vmDir, 'vsock', `${port}.sock`);

  before(async () => {
    vmDir = tempDir('lcowg-vm-');
    shareDir = buildBusyboxRootfs(tempDir('lcowg-share-'));
    mkdirSync(join(vmDir, 'vsock'), { recursive: true });
    mkdirSync(join(vmDir, 'plan9'), { recursive: true });
    symlinkSync(shareDir, join(vmDir, 'plan9', 'busybox0'));
    gcsListener = await UnixListener.listen(vsock(LinuxGcsVsockPort));
    guest = startGuest(vmDir);
    const conn = await gcsListener.accept();
    gc = await connectGuest({ conn, ioListen: (port) => UnixListener.listen(vsock(port)), timeoutMs: 60_000 });
    await gc.modifySettings({
      ResourceType: 'MappedDirectory',
      RequestType: 'Add',
      Settings: { ShareName: 'busybox0', MountPath: '/layers/busybox', ReadOnly: true, Port: 564 },
    });
  });

  after(async () => {
    try {
      for (const id of created) await gc?.deleteContainerState(id).catch(() => undefined);
      gc?.close();
      if (guest) {
        const timer = setTimeout(() => guest.child.kill('SIGKILL'), 20_000);
        await guest.exited;
        clearTimeout(timer);
      }
      await gcsListener?.close();
    } finally {
      if (vmDir) cleanupVmDir(vmDir);
      if (shareDir) cleanupVmDir(shareDir);
    }
    // runc placed the containers under /lcow/<vm dir's name>: nothing of it is left in any hierarchy.
    if (vmDir) assert.deepEqual(vmCgroupDirs(vmDir), []);
  });

  async function newContainer(id: string, args: string[], terminal = false): Promise<Container> {
    await gc.modifySettings({
      ResourceType: 'CombinedLayers',
      RequestType: 'Add',
      Settings: { ContainerRootPath: `/run/gcs/c/${id}/rootfs`, Layers: [{ Path: '/layers/busybox' }], ScratchPath: `/run/gcs/c/${id}/scratch` },
    });
    created.push(id);
    return gc.createContainer(id, containerConfig(id, ociSpec(id, args, { terminal })));
  }

  /** The host's teardown order: release the container's mounts first, DeleteContainerState last. */
  async function removeContainer(id: string): Promise<void> {
    await gc.modifySettings({ ResourceType: 'CombinedLayers', RequestType: 'Remove', Settings: { ContainerRootPath: `/run/gcs/c/${id}/rootfs` } });
    await gc.deleteContainerState(id);
    created.splice(created.indexOf(id), 1);
  }

  it('negotiates v4 with the Linux capabilities and dumps stacks', async () => {
    assert.equal(gc.protocolVersion, 4);
    assert.equal(gc.os, 'linux');
    assert.deepEqual(gc.guestCapabilities, {
      NamespaceAddRequestSupported: true,
      SignalProcessSupported: true,
      DumpStacksSupported: true,
      DeleteContainerStateSupported: true,
    });
    assert.match(await gc.dumpStacks(), /lcow guest agent pid \d+/);
  });

  it('runs an init process with stdout and stderr captured, then notifies the exit', async () => {
    const c = await newContainer('echo1', ['sh', '-c', 'echo hello; echo oops >&2']);
    const p = await c.executeProcess({ CreateStdOutPipe: true, CreateStdErrPipe: true });
    assert.ok(p.pid > 0);
    const [out, err, code] = await Promise.all([readAll(p.stdout), readAll(p.stderr), p.wait()]);
    assert.equal(out, 'hello\n');
    assert.equal(err, 'oops\n');
    assert.equal(code, 0);
    const exit = await c.waitExit();
    assert.equal(exit.type, 'UnexpectedExit');
    assert.equal(exit.result, 0);
    await removeContainer('echo1');
    assert.deepEqual(readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(`${vmDir}/rootfs/run/gcs/c/echo1`)), []);
  });

  it('closes an output that ended without data before anyone read it (empty stderr): the exit is reported', async () => {
    const c = await newContainer('empty1', ['echo', 'hi']);
    const p = await c.executeProcess({ CreateStdInPipe: true, CreateStdOutPipe: true, CreateStdErrPipe: true });
    p.stdin!.end();
    // Read late: by now the guest has half-closed an empty stderr, which ends before any reader is attached.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const [out, err, code] = await Promise.all([readAll(p.stdout), readAll(p.stderr), p.wait()]);
    assert.deepEqual([out, err, code], ['hi\n', '', 0]);
    await c.waitExit();
    p.close();
    await removeContainer('empty1');
  });

  it('reports the exit code of the init process (exit 7 → 7)', async () => {
    const c = await newContainer('exit7', ['sh', '-c', 'exit 7']);
    const p = await c.executeProcess({});
    assert.equal(await p.wait(), 7);
    await c.waitExit();
    await removeContainer('exit7');
  });

  it('execs into a running container, lists its processes, reads statistics, signals', async () => {
    const c = await newContainer('exec1', ['sleep', '1000']);
    const init = await c.executeProcess({});
    const spec = { args: ['sh', '-c', 'echo $((6*7)); exit 3'], cwd: '/', env: ['PATH=/bin'], user: { uid: 0, gid: 0 } };
    const ex = await c.executeProcess({ CreateStdOutPipe: true, OciProcess: spec });
    const [out, code] = await Promise.all([readAll(ex.stdout), ex.wait()]);
    assert.equal(out, '42\n');
    assert.equal(code, 3);

    const sleeper = await c.executeProcess({ OciProcess: { ...spec, args: ['sleep', '1000'] } });
    const props = await c.getProperties(['ProcessList', 'Statistics']);
    const pids = (props.ProcessList ?? []).map((p) => p.ProcessId);
    assert.ok(pids.includes(init.pid), `init ${init.pid} in ${pids.join(',')}`);
    assert.ok(pids.includes(sleeper.pid), `exec ${sleeper.pid} in ${pids.join(',')}`);
    type M = { pids?: { current?: number }; cpu?: { usage?: { total?: number; per_cpu?: unknown[] } }; memory?: { usage?: { usage?: number; limit?: unknown }; hierarchical_memory_limit?: unknown } };
    const metrics = props.LCOWMetrics as M;
    const text = stringifyExact(metrics);
    assert.ok((metrics.pids?.current ?? 0) >= 2, text);
    assert.ok((metrics.memory?.usage?.usage ?? 0) > 0, text);
    assert.ok((metrics.cpu?.usage?.total ?? 0) > 0 && (metrics.cpu?.usage?.per_cpu ?? []).length > 0, text);
    // uint64 values arrive exactly: compare with the cgroup's own file (an unlimited one says 9223372036854771712).
    const memCgroup = /^\d+:memory:(.*)$/m.exec(readFileSync(`/proc/${init.pid}/cgroup`, 'utf8'))?.[1];
    if (memCgroup !== undefined) {
      const stat = readFileSync(join('/sys/fs/cgroup/memory', memCgroup, 'memory.stat'), 'utf8');
      const want = /^hierarchical_memory_limit (\d+)$/m.exec(stat)?.[1];
      assert.equal(String(metrics.memory?.hierarchical_memory_limit), want, text);
      const limit = readFileSync(join('/sys/fs/cgroup/memory', memCgroup, 'memory.limit_in_bytes'), 'utf8').trim();
      assert.equal(String(metrics.memory?.usage?.limit), limit, text);
    }

    assert.equal(await sleeper.signal(15), true);
    assert.equal(await sleeper.wait(), 143);
    assert.equal(await sleeper.signal(15), false); // gone: the guest answers not found
    assert.equal(await init.signal(9), true);
    assert.equal(await init.wait(), 137);
    await c.waitExit();
    await removeContainer('exec1');
  });

  it('closes the process stdin when the host half-closes it (cat)', async () => {
    const c = await newContainer('cat1', ['cat']);
    const p = await c.executeProcess({ CreateStdInPipe: true, CreateStdOutPipe: true });
    const out = readAll(p.stdout);
    p.stdin!.write('abc\n');
    p.stdin!.write('def\n');
    await p.closeStdin();
    assert.equal(await out, 'abc\ndef\n');
    assert.equal(await p.wait(), 0);
    await c.waitExit();
    await removeContainer('cat1');
  });

  it('runs a tty process and resizes its console', async () => {
    const c = await newContainer('tty1', ['sh', '-c', 'read x; stty size; exit 5'], true);
    const p = await c.executeProcess({ CreateStdInPipe: true, CreateStdOutPipe: true, EmulateConsole: true });
    const out = readAll(p.stdout);
    await p.resize(101, 33);
    p.stdin!.write('go\r');
    assert.equal(await p.wait(), 5);
    assert.match(await out, /33 101/);
    await c.waitExit();
    await removeContainer('tty1');
  });

  it('ShutdownForced kills the init (137) and ShutdownGraceful delivers SIGTERM', async () => {
    const c = await newContainer('shut1', ['sleep', '1000']);
    const p = await c.executeProcess({});
    await c.shutdownForced();
    assert.equal(await p.wait(), 137);
    assert.equal((await c.waitExit()).type, 'ForcedExit');
    await removeContainer('shut1');

    const g = await newContainer('shut2', ['sh', '-c', 'trap "exit 42" TERM; while :; do sleep 0.1; done']);
    const gp = await g.executeProcess({});
    await g.shutdownGraceful();
    assert.equal(await gp.wait(), 42);
    await g.waitExit();
    await removeContainer('shut2');
  });

  it('answers bad requests with errors, never crashing', async () => {
    await assert.rejects(gc.createContainer('../evil', containerConfig('../evil', ociSpec('x', ['true']))), (e) => hresultOf(e) === 0x80070057);
    const spec = ociSpec('bad1', ['true']);
    (spec['root'] as Record<string, unknown>)['path'] = '/run/../../etc';
    await assert.rejects(gc.createContainer('bad1', containerConfig('bad1', spec)), (e) => hresultOf(e) === 0x80070057);
    await assert.rejects(
      gc.modifySettings({ ResourceType: 'MappedDirectory', Settings: { ShareName: 'nope', MountPath: '/x' } }),
      (e) => hresultOf(e) === 0x80004005,
    );
    await assert.rejects(gc.modifySettings({ ResourceType: 'Bogus', Settings: {} }), (e) => hresultOf(e) === 0x80004005);
    // A container that was never started: deleting it works, executing into an unknown one is not found.
    const c = await newContainer('idle1', ['true']);
    await assert.rejects(c.executeProcess({ OciProcess: { args: ['true'], cwd: '/' } }), (e) => hresultOf(e) === 0x80370105);
    await removeContainer('idle1');
    await assert.rejects(c.executeProcess({}), (e) => hresultOf(e) === 0xc037010e);
    assert.equal(guest.child.exitCode, null);
  });

  it('enforces pods as the real GCS: a workload needs its pod; it shares the pause\'s pid namespace and sees the sandbox\'s hostname', async () => {
    const cri = (type: string, pod: string): Record<string, string> => ({ 'io.kubernetes.cri.container-type': type, 'io.kubernetes.cri.sandbox-id': pod });
    const orphan = { ...ociSpec('w0', ['true']), hostname: '', annotations: cri('container', 'pod9') };
    await assert.rejects(gc.createContainer('w0', containerConfig('w0', orphan)), (e) =>
      hresultOf(e) === 0x80004005 && /pod pod9 does not exist for workload container w0/.test((e as Error).message));

    await gc.modifySettings({
      ResourceType: 'CombinedLayers', RequestType: 'Add',
      Settings: { ContainerRootPath: '/run/gcs/c/pod9/rootfs', Layers: [{ Path: '/layers/busybox' }], ScratchPath: '/run/gcs/c/pod9/scratch' },
    });
    created.push('pod9');
    const sandboxSpec = { ...ociSpec('pod9', ['sleep', '1000']), annotations: { ...cri('sandbox', 'pod9'), 'io.microsoft.cri.skip-pod-networking': 'true' } };
    const pod = await gc.createContainer('pod9', containerConfig('pod9', sandboxSpec));
    const pause = await pod.executeProcess({});

    await gc.modifySettings({
      ResourceType: 'CombinedLayers', RequestType: 'Add',
      Settings: { ContainerRootPath: '/run/gcs/c/w1/rootfs', Layers: [{ Path: '/layers/busybox' }], ScratchPath: '/run/gcs/c/w1/scratch' },
    });
    created.push('w1');
    const base = ociSpec('w1', ['sh', '-c', 'cat /etc/hostname; tr "\\0" " " < /proc/1/cmdline']);
    const linux = base['linux'] as { namespaces: Array<Record<string, string>> };
    // Networking is skipped, so the sandbox's resolv.conf is empty (as in the real guest): the workload brings
    // its own, as CRI's do in pause mode; hostname and hosts come from the sandbox.
    const ownResolv = { destination: '/etc/resolv.conf', type: 'bind', source: '/run/gcs/c/pod9/hosts', options: ['bind', 'ro'] };
    const workloadSpec = {
      ...base, hostname: '', annotations: cri('container', 'pod9'), mounts: [...(base['mounts'] as unknown[]), ownResolv],
      linux: { ...linux, namespaces: [{ type: 'pid', path: `/proc/${pause.pid}/ns/pid` }, { type: 'ipc' }, { type: 'mount' }] },
    };
    const w = await gc.createContainer('w1', containerConfig('w1', workloadSpec));
    const wp = await w.executeProcess({ CreateStdOutPipe: true });
    const [out, code] = await Promise.all([readAll(wp.stdout), wp.wait()]);
    assert.equal(code, 0);
    assert.equal(out, 'pod9\nsleep 1000 ');
    await w.waitExit();
    await removeContainer('w1');
    await pod.shutdownForced();
    assert.equal(await pause.wait(), 137);
    await pod.waitExit();
    await removeContainer('pod9');
  });

  it('stops its containers, unmounts and exits 1 with a fatal line when the bridge drops', async () => {
    const c = await newContainer('last1', ['sleep', '1000']);
    await c.executeProcess({});
    gc.close();
    assert.equal(await guest.exited, 1);
    assert.ok(guest.logs.some((l) => JSON.parse(l).level === 'fatal' && JSON.parse(l).msg === 'failed to serve gcs service'));
    const list = execFileSync('runc', ['--root', join(vmDir, 'runc'), 'list', '-q'], { encoding: 'utf8' }).trim();
    assert.equal(list, '');
    const mounted = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(vmDir));
    assert.deepEqual(mounted, []);
    assert.ok(guest.logs.some((l) => JSON.parse(l).msg === 'guest agent stopped'));
  });
});
