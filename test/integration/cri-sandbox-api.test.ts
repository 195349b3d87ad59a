/**
 * The Sandbox API against containerd 2.4.x: CRI with `sandboxer = "shim"` calls the shim's
 * containerd.runtime.sandbox.v1.Sandbox service instead of running a pause container. Driven with crictl:
 * one shim and one utility VM per pod, no pause container or process, the CRI state through SandboxStatus,
 * stopp/rmp leave nothing; two pods → two shims and two VMs; the pod's containers run in its VM (create,
 * start, logs, exec, exit codes, stop, rm), joined to the pod the shim registers in the guest; `crictl statsp`
 * shows the pod's CPU and memory (SandboxMetrics).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { containerConfig, CRI_IMAGE, crictl, crictlOk, exited, importCriImages, processes, shimDaemons } from './crictl.js';
import { CONTAINERDS, NEEDS_ROOT, nodeActionProbe, type PrivateContainerd, usePrivateContainerd } from './harness.js';

const IMAGE = CRI_IMAGE;

/** Whether `pid` has an ancestor in `roots` (other test runs on this machine run pause processes too). */
function descendsFrom(pid: number, roots: ReadonlySet<number>): boolean {
  for (let p = pid, i = 0; p > 1 && i < 64; i++) {
    if (roots.has(p)) return true;
    try {
      p = Number(readFileSync(`/proc/${p}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[1]);
    } catch {
      return false;
    }
  }
  return false;
}

/** The guest agents the emulator booted for this containerd's VMs. */
const guestAgents = (ctd: PrivateContainerd): number[] => processes((a) => a.some((x) => x.startsWith(ctd.vmRoot)) && !a.includes('serve'));

for (const under of CONTAINERDS.filter((c) => c.major === 2)) {
  describe(`CRI pods through the Sandbox API (sandboxer = "shim") [${under.label}]`, { skip: NEEDS_ROOT, timeout: 600_000 }, () => {
    const ctd = usePrivateContainerd(async (c) => {
      await crictl(c, ['rmp', '-af']); // a failed test's pod
    }, under, { cri: 'shim' });

    const ok = crictlOk(ctd);
    const images = (): Promise<void> => importCriImages(ctd);

    function podConfig(name: string, pidNamespace: 0 | 1, annotations: Record<string, string> = {}): string {
      const path = join(ctd.tmp, `${name}-pod.json`);
      mkdirSync(join(ctd.tmp, 'pod-logs', name), { recursive: true });
      writeFileSync(path, JSON.stringify({
        metadata: { name, namespace: 'default', uid: `${name}-uid`, attempt: 0 },
        hostname: '',
        annotations,
        log_directory: join(ctd.tmp, 'pod-logs', name),
        // hostNetwork (no CNI); pid: 0 = POD (shared by the pod's containers), 1 = CONTAINER (own)
        linux: { security_context: { namespace_options: { network: 2, pid: pidNamespace, ipc: 0 } } },
      }));
      return path;
    }

    function assertNoPause(): void {
      const ours = new Set([...shimDaemons(ctd), ...guestAgents(ctd)]);
      const pauses = processes((x) => x[0] === '/bin/sleep' && x[1] === '2147483647').filter((p) => descendsFrom(p, ours));
      assert.deepEqual(pauses, [], 'no pause process under this containerd\'s shims and guest agents');
      assert.deepEqual(processes((x) => x[0] === '/pause').filter((p) => descendsFrom(p, ours)), [], 'the pod\'s sandbox container never runs');
    }

    async function removePod(pod: string): Promise<void> {
      ok(await crictl(ctd, ['stopp', pod]), 'crictl stopp');
      const inspect = JSON.parse(ok(await crictl(ctd, ['inspectp', pod]), 'inspectp')) as { status: { state: string } };
      assert.equal(inspect.status.state, 'SANDBOX_NOTREADY');
      ok(await crictl(ctd, ['rmp', pod]), 'crictl rmp');
    }

    async function settled(pred: () => boolean, what: string): Promise<void> {
      for (let i = 0; i < 300 && !pred(); i++) await sleep(100);
      assert.ok(pred(), what);
    }

    function assertNothingLeft(): void {
      assert.deepEqual(guestAgents(ctd), [], 'no guest agent left');
      assert.equal(readFileSync('/proc/self/mountinfo', 'utf8').includes(ctd.vmRoot), false, 'no mount left under the VM root');
    }

    test('a pod: one shim, one VM, no pause container or process; READY, NOTREADY after stopp; rmp leaves nothing', async () => {
      await images();
      const pod = ok(await crictl(ctd, ['runp', podConfig('s1', 0)]), 'crictl runp');
      assert.equal(shimDaemons(ctd).length, 1, 'one shim daemon for the pod');
      assert.equal(readdirSync(ctd.vmRoot).length, 1, 'one utility VM for the pod');
      assert.equal(ok(await ctd.ctr(['-n', 'k8s.io', 'tasks', 'ls', '-q']), 'ctr tasks ls'), '', 'no pause task');
      assert.equal(ok(await ctd.ctr(['-n', 'k8s.io', 'containers', 'ls', '-q']), 'ctr containers ls'), '', 'no pause container');
      assertNoPause();
      const inspect = JSON.parse(ok(await crictl(ctd, ['inspectp', pod]), 'inspectp')) as { status: { state: string } };
      assert.equal(inspect.status.state, 'SANDBOX_READY');

      await removePod(pod);
      assert.equal(ok(await crictl(ctd, ['pods', '-q']), 'crictl pods'), '');
      await settled(() => shimDaemons(ctd).length === 0, 'the shim exited');
      await settled(() => readdirSync(ctd.vmRoot).length === 0, 'the VM directory is gone');
      assertNothingLeft();
    });

    test('containers in the pod: create/start/logs/exec/exit code/stop/rm in its one VM; stopp/rmp leave nothing', async () => {
      await images();
      const before = ctd.log().length;
      const podJson = podConfig('w1', 0, { 'io.microsoft.virtualmachine.lcow.timesync.disable': 'true' });
      const pod = ok(await crictl(ctd, ['runp', podJson]), 'crictl runp');
      // the pod's annotations reach CreateLCOW (here: the guest's command line)
      const started = ctd.log().slice(before).split('\n').find((l) => l.includes('guest agent starting'));
      assert.match(started ?? '', /disableTimeSync=true/);
      // Task API 3: containerd sends the containers straight to the sandbox's shim
      const boot = JSON.parse(readFileSync(join(ctd.tmp, 'state', 'io.containerd.sandbox.controller.v1.shim', 'k8s.io', pod, 'bootstrap.json'), 'utf8')) as { version: number };
      assert.equal(boot.version, 3);
      const c1 = ok(await crictl(ctd, ['create', pod, containerConfig(ctd, IMAGE, 'c1', ['/bin/sh', '-c', 'echo hello from c1; sleep 300']), podJson]), 'create c1');
      ok(await crictl(ctd, ['start', c1]), 'start c1');
      const c2 = ok(await crictl(ctd, ['create', pod, containerConfig(ctd, IMAGE, 'c2', ['/bin/sh', '-c', 'echo bye >&2; exit 3']), podJson]), 'create c2');
      ok(await crictl(ctd, ['start', c2]), 'start c2');
      assert.equal((await exited(ctd, c2, ok)).exitCode, 3);
      assert.equal((await crictl(ctd, ['logs', c2])).stderr.includes('bye'), true);
      for (let i = 0; i < 50 && !(await crictl(ctd, ['logs', c1])).stdout.includes('hello from c1'); i++) await sleep(100);
      assert.equal((await crictl(ctd, ['logs', c1])).stdout, 'hello from c1\n');
      assert.match(readFileSync(join(ctd.tmp, 'pod-logs', 'w1', 'c1.log'), 'utf8'), /^\S+ stdout F hello from c1$/m);
      const sync = await crictl(ctd, ['exec', '--sync', '--timeout', '30', c1, '/bin/sh', '-c', 'echo out; echo err >&2; exit 7']);
      assert.equal(sync.code, 1);
      assert.match(sync.stderr, /exited with 7: err\\n/);
      assert.equal(ok(await crictl(ctd, ['exec', c1, '/bin/sh', '-c', 'echo exec-ok']), 'crictl exec'), 'exec-ok');
      // the pod's files from the guest's pod (its sandbox container's hostname and hosts), bound into c1
      assert.match(ok(await crictl(ctd, ['exec', '--sync', c1, '/bin/cat', '/etc/hosts']), 'cat /etc/hosts'), /^127\.0\.0\.1 localhost$/m);
      // SandboxMetrics: CRI's PodSandboxStats decodes the shim's io.containerd.cgroups.v2.Metrics (the pod's
      // running containers summed, c1 here: its init and the execs above used CPU and memory in the guest)
      const statsp = JSON.parse(ok(await crictl(ctd, ['statsp', '-o', 'json', '--id', pod]), 'crictl statsp')) as {
        stats: { attributes: { id: string }; linux: { cpu: { usageCoreNanoSeconds?: { value: string } }; memory: { usageBytes?: { value: string }; availableBytes?: { value: string } } } }[];
      };
      assert.equal(statsp.stats.length, 1, JSON.stringify(statsp));
      assert.equal(statsp.stats[0]?.attributes.id, pod);
      assert.ok(Number(statsp.stats[0]?.linux.cpu.usageCoreNanoSeconds?.value ?? 0) > 0, `pod CPU usage: ${JSON.stringify(statsp)}`);
      assert.ok(Number(statsp.stats[0]?.linux.memory.usageBytes?.value ?? 0) > 0, `pod memory usage: ${JSON.stringify(statsp)}`);
      // no pod memory limit (c1 has none): CRI reports 0 available, not 0 - working set wrapped around
      assert.equal(statsp.stats[0]?.linux.memory.availableBytes?.value ?? '0', '0', `pod available memory: ${JSON.stringify(statsp)}`);

      assert.equal(shimDaemons(ctd).length, 1, 'one shim daemon for the pod');
      assert.equal(readdirSync(ctd.vmRoot).length, 1, 'one utility VM for the pod');
      const c1Bundle = join(ctd.tmp, 'state', 'io.containerd.runtime.v2.task', 'k8s.io', c1);
      assert.equal(readFileSync(join(c1Bundle, 'sandbox'), 'utf8'), pod, 'containerd joined c1 to the sandbox itself');
      assert.equal(existsSync(join(c1Bundle, 'shim.pid')), false, 'no `start` ran for c1 (it would have written shim.pid)');
      const ctrs = ok(await ctd.ctr(['-n', 'k8s.io', 'containers', 'ls', '-q']), 'ctr containers ls').split('\n').sort();
      assert.deepEqual(ctrs, [c1, c2].sort(), 'only the workloads are containerd containers: no pause container');
      assertNoPause();

      ok(await crictl(ctd, ['stop', '-t', '2', c1]), 'crictl stop c1');
      assert.equal((await exited(ctd, c1, ok)).state, 'CONTAINER_EXITED');
      ok(await crictl(ctd, ['rm', c1, c2]), 'crictl rm');
      assert.equal(shimDaemons(ctd).length, 1, 'removing the workloads does not end the pod');
      const c3 = ok(await crictl(ctd, ['create', pod, containerConfig(ctd, IMAGE, 'c3', ['/bin/sleep', '3600']), podJson]), 'create c3');
      ok(await crictl(ctd, ['start', c3]), 'start c3');
      ok(await crictl(ctd, ['stopp', pod]), 'crictl stopp');
      assert.equal((await exited(ctd, c3, ok)).state, 'CONTAINER_EXITED', 'stopp stops the pod\'s containers');
      ok(await crictl(ctd, ['rmp', pod]), 'crictl rmp');
      assert.equal(ok(await crictl(ctd, ['pods', '-q']), 'crictl pods'), '');
      await settled(() => shimDaemons(ctd).length === 0, 'the shim exited');
      await settled(() => readdirSync(ctd.vmRoot).length === 0, 'the VM directory is gone');
      assertNothingLeft();
    });

    test('a pod\'s `start` and its `delete` are answered by the executable\'s sh (no Node `start` or `delete`)', async () => {
      const probe = nodeActionProbe(ctd);
      await ctd.restart(probe.env);
      try {
        await images();
        const pod = ok(await crictl(ctd, ['runp', podConfig('s-sh', 0)]), 'crictl runp');
        const bundle = join(ctd.tmp, 'state', 'io.containerd.sandbox.controller.v1.shim', 'k8s.io', pod);
        const boot = JSON.parse(readFileSync(join(bundle, 'bootstrap.json'), 'utf8')) as { version: number };
        assert.equal(boot.version, 3, 'Task API 3 for a Sandbox API sandbox, as Node\'s `start` announces');
        assert.equal(probe.starts(), '', 'no Node `start`: sh started the sandbox\'s daemon');
        await removePod(pod);
        await settled(() => shimDaemons(ctd).length === 0, 'the shim exited');
        // containerd runs `delete` once the daemon has disconnected (cleanupAfterDeadShim: binary.Delete logs
        // "cleaning up dead shim", then runs the executable; the probe's node records a Node `delete` as it starts)
        await settled(() => ctd.log().split('\n').some((l) => l.includes('cleaning up dead shim') && l.includes(pod)), 'containerd ran `delete` for the pod');
        await sleep(500);
        assert.equal(probe.deletes(), '', 'no Node `delete`: sh answered it from the released marker');
        assertNothingLeft();
      } finally {
        await ctd.restart();
      }
    });

    test('two pods → two shims and two VMs; removing one leaves the other ready; removing both leaves nothing', async () => {
      await images();
      const p1 = ok(await crictl(ctd, ['runp', podConfig('s2', 1)]), 'runp s2');
      const p2 = ok(await crictl(ctd, ['runp', podConfig('s3', 0)]), 'runp s3');
      assert.equal(shimDaemons(ctd).length, 2);
      assert.equal(readdirSync(ctd.vmRoot).length, 2);
      await removePod(p1);
      await settled(() => shimDaemons(ctd).length === 1 && readdirSync(ctd.vmRoot).length === 1, "the first pod's shim and VM are gone");
      const inspect = JSON.parse(ok(await crictl(ctd, ['inspectp', p2]), 'inspectp')) as { status: { state: string } };
      assert.equal(inspect.status.state, 'SANDBOX_READY', 'the other pod is untouched');
      await removePod(p2);
      await settled(() => shimDaemons(ctd).length === 0 && readdirSync(ctd.vmRoot).length === 0, 'nothing left');
      assertNothingLeft();
    });
  });
}
