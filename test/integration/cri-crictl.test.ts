/**
 * Pods through containerd's CRI, driven with crictl as users do, against containerd 1.6.20 and 2.4.x (pause
 * container mode: containerd 2.x's default `podsandbox` sandboxer). One pod = one shim daemon and one utility
 * VM; containers run in it; logs (and the CRI log file's format), exec (streaming and ExecSync), stats,
 * status, exit codes, pid=POD, stop with a timeout and two pods at once come back through CRI (and a workload's
 * Pause/Resume through ctr in CRI's namespace, which CRI itself does not offer); nothing is
 * left after a pod is removed (the harness checks processes, mounts, sockets, VM dirs and the rootfs).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { containerConfig, CRI_IMAGE, crictl, crictlOk, exited, importCriImages, shimDaemons } from './crictl.js';
import { CONTAINERDS, NEEDS_ROOT, diagCli, nodeActionProbe, usePrivateContainerd } from './harness.js';

const IMAGE = CRI_IMAGE;

for (const under of CONTAINERDS) describe(`CRI pods with crictl [${under.label}]`, { skip: NEEDS_ROOT, timeout: 600_000 }, () => {
  const ctd = usePrivateContainerd(async (c) => {
    await crictl(c, ['rmp', '-af']); // a failed test's pod
  }, under, { cri: 'podsandbox' });

  const ok = crictlOk(ctd);
  const images = (): Promise<void> => importCriImages(ctd);

  function podConfig(name: string): string {
    const path = join(ctd.tmp, `${name}-pod.json`);
    mkdirSync(join(ctd.tmp, 'pod-logs', name), { recursive: true });
    writeFileSync(path, JSON.stringify({
      metadata: { name, namespace: 'default', uid: `${name}-uid`, attempt: 0 },
      hostname: '', // runc 1.1.5 cannot set a hostname without a UTS namespace
      log_directory: join(ctd.tmp, 'pod-logs', name),
      linux: { security_context: { namespace_options: { network: 2, pid: 0, ipc: 0 } } }, // hostNetwork: no CNI
    }));
    return path;
  }

  test('a pod with two containers: one shim, one VM; logs, exec, exit code 3, stop and remove leave nothing', async () => {
    await images();
    const podJson = podConfig('p1');
    const pod = ok(await crictl(ctd, ['runp', podJson]), 'crictl runp');
    const c1 = ok(await crictl(ctd, ['create', pod, containerConfig(ctd, IMAGE, 'c1', ['/bin/sh', '-c', 'echo hello from c1; sleep 300']), podJson]), 'create c1');
    ok(await crictl(ctd, ['start', c1]), 'start c1');
    const c2 = ok(await crictl(ctd, ['create', pod, containerConfig(ctd, IMAGE, 'c2', ['/bin/sh', '-c', 'echo bye >&2; exit 3']), podJson]), 'create c2');
    ok(await crictl(ctd, ['start', c2]), 'start c2');

    const status = await exited(ctd, c2, ok);
    assert.equal(status.exitCode, 3);
    const logs2 = await crictl(ctd, ['logs', c2]);
    assert.equal(logs2.stderr.includes('bye'), true, logs2.stderr);
    assert.equal(ok(await crictl(ctd, ['exec', c1, '/bin/sh', '-c', 'echo exec-ok; hostname >/dev/null']), 'crictl exec'), 'exec-ok');
    // Pause/Resume of a pod's workload (CRI has no pause: ctr in CRI's namespace): c1 is frozen in the pod's VM.
    ok(await ctd.ctr(['-n', 'k8s.io', 'task', 'pause', c1]), 'ctr task pause c1');
    assert.match((await ctd.ctr(['-n', 'k8s.io', 'task', 'ls'])).stdout, new RegExp(`^${c1}\\s+\\d+\\s+PAUSED$`, 'm'));
    const frozenExec = await crictl(ctd, ['exec', c1, '/bin/true']);
    assert.notEqual(frozenExec.code, 0);
    assert.match(frozenExec.stderr, /cannot exec in a paused state/);
    ok(await ctd.ctr(['-n', 'k8s.io', 'task', 'resume', c1]), 'ctr task resume c1');
    assert.equal(ok(await crictl(ctd, ['exec', c1, '/bin/sh', '-c', 'echo resumed']), 'crictl exec after resume'), 'resumed');
    for (let i = 0; i < 50 && !(await crictl(ctd, ['logs', c1])).stdout.includes('hello from c1'); i++) await sleep(100);
    assert.equal((await crictl(ctd, ['logs', c1])).stdout, 'hello from c1\n');
    // The CRI log file itself is in CRI format: <time> stdout F <line>.
    assert.match(readFileSync(join(ctd.tmp, 'pod-logs', 'p1', 'c1.log'), 'utf8'), /^\S+ stdout F hello from c1$/m);

    assert.equal(shimDaemons(ctd).length, 1, 'one shim daemon for the pod');
    assert.equal(readdirSync(ctd.vmRoot).length, 1, 'one utility VM for the pod');
    // The pod's sandbox was started by the executable's sh (a ready pipe; scripts/build-steps/shim-wrapper.sh),
    // its containers joined it through Node's start.
    const daemonEnv = readFileSync(`/proc/${shimDaemons(ctd)[0] ?? 0}/environ`, 'utf8').split('\0');
    assert.ok(daemonEnv.includes('LCOW_SHIM_READY_FD=3'), 'the sandbox\'s daemon came from sh');
    // Its containers joined it (in sh: shim-wrapper.sh join_pod_start): the running one's bundle names the pod's
    // daemon (c2's went when CRI deleted its task at its exit).
    const bundles = join(ctd.tmp, 'state', 'io.containerd.runtime.v2.task', 'k8s.io');
    const podAddress = readFileSync(join(bundles, pod, 'address'), 'utf8');
    for (const c of [c1]) {
      assert.equal(readFileSync(join(bundles, c, 'address'), 'utf8'), podAddress, `${c} joined the pod's socket`);
      assert.equal(readFileSync(join(bundles, c, 'shim.pid'), 'utf8'), String(shimDaemons(ctd)[0]), `${c} names the pod's daemon`);
      if (ctd.under.major !== 1) {
        // containerd 2.x read the plain address sh printed as the BootstrapResult Node's start would print
        assert.deepEqual(JSON.parse(readFileSync(join(bundles, c, 'bootstrap.json'), 'utf8')), { version: 2, address: podAddress, protocol: 'ttrpc' });
      }
    }

    ok(await crictl(ctd, ['stop', c1]), 'crictl stop c1');
    assert.equal((await exited(ctd, c1, ok)).state, 'CONTAINER_EXITED');
    ok(await crictl(ctd, ['rm', c1, c2]), 'crictl rm');
    ok(await crictl(ctd, ['stopp', pod]), 'crictl stopp');
    ok(await crictl(ctd, ['rmp', pod]), 'crictl rmp');
    assert.equal(ok(await crictl(ctd, ['pods', '-q']), 'crictl pods'), '');
  });

  test('a pod\'s start and its workload\'s start and delete are answered by the executable\'s sh (no Node `start` or `delete`) while the pod\'s daemon serves on', async () => {
    const probe = nodeActionProbe(ctd);
    await ctd.restart(probe.env);
    try {
      await images();
      const podJson = podConfig('p-sh');
      const pod = ok(await crictl(ctd, ['runp', podJson]), 'crictl runp');
      const c = ok(await crictl(ctd, ['create', pod, containerConfig(ctd, IMAGE, 'c-sh', ['/bin/true']), podJson]), 'create c-sh');
      ok(await crictl(ctd, ['start', c]), 'start c-sh');
      await exited(ctd, c, ok);
      ok(await crictl(ctd, ['rm', c]), 'crictl rm'); // containerd has deleted the task and run `delete` for its bundle
      assert.equal(shimDaemons(ctd).length, 1, 'the pod\'s daemon serves on');
      assert.doesNotMatch(probe.deletes(), new RegExp(`-id ${c} `), 'no Node `delete` for the workload');
      assert.equal(probe.starts(), '', 'no Node `start`: sh started the pod\'s daemon and joined the workload to it');
      ok(await crictl(ctd, ['stopp', pod]), 'crictl stopp');
      ok(await crictl(ctd, ['rmp', pod]), 'crictl rmp');
    } finally {
      await ctd.restart();
    }
  });

  test('hostPath volumes: a directory (rw) and a single file (read-only) over Plan9; bytes both ways; nothing else of the file\'s directory in the VM', async () => {
    await images();
    const vol = mkdtempSync(join(ctd.tmp, 'cri-vol-'));
    const conf = mkdtempSync(join(ctd.tmp, 'cri-conf-'));
    writeFileSync(join(vol, 'in.txt'), 'from the host\n');
    writeFileSync(join(conf, 'app.conf'), 'setting=1\n');
    writeFileSync(join(conf, 'secret.key'), 'not for the pod\n');
    const podJson = podConfig('pv');
    const pod = ok(await crictl(ctd, ['runp', podJson]), 'crictl runp');
    const c = ok(await crictl(ctd, ['create', pod, containerConfig(ctd, IMAGE, 'cv', ['/bin/sh', '-c', 'sleep 300'], [
      { container_path: '/data', host_path: vol },
      { container_path: '/etc/app.conf', host_path: join(conf, 'app.conf'), readonly: true },
    ]), podJson]), 'create with hostPath volumes');
    ok(await crictl(ctd, ['start', c]), 'start');
    const out = ok(await crictl(ctd, ['exec', c, '/bin/sh', '-c',
      'cat /data/in.txt; echo from the pod > /data/out.txt; cat /etc/app.conf; echo x > /etc/app.conf 2>/dev/null || echo ro-refused; ls /etc/app.conf']), 'crictl exec');
    assert.equal(out, 'from the host\nsetting=1\nro-refused\n/etc/app.conf');
    assert.equal(readFileSync(join(vol, 'out.txt'), 'utf8'), 'from the pod\n');
    // In the VM: the file's share (one of the container's /run/gcs/c/<id>/mounts/m<i>) holds that file only.
    const vm = await diagCli(ctd, ['exec', pod, '/bin/sh', '-c', `for m in run/gcs/c/${c}/mounts/*; do echo $(ls -A $m); done`], '', 'k8s.io');
    assert.equal(vm.code, 0, vm.stderr);
    assert.deepEqual(vm.stdout.split('\n').filter((l) => l.includes('app.conf') || l.includes('secret.key')), ['app.conf']);
    assert.ok(vm.stdout.split('\n').includes('in.txt out.txt'), vm.stdout);
    ok(await crictl(ctd, ['stopp', pod]), 'crictl stopp');
    ok(await crictl(ctd, ['rmp', pod]), 'crictl rmp');
    assert.equal(readFileSync(join(conf, 'app.conf'), 'utf8'), 'setting=1\n');
    assert.equal(readFileSync(join(conf, 'secret.key'), 'utf8'), 'not for the pod\n');
    assert.equal(readFileSync(join(vol, 'in.txt'), 'utf8'), 'from the host\n');
  });

  test('three containers: stats, exec --sync streams and exit code, pid=POD sees the pause, stop -t, stopp stops the rest', async () => {
    await images();
    const podJson = podConfig('p3');
    const pod = ok(await crictl(ctd, ['runp', podJson]), 'crictl runp');
    const start = async (name: string, command: string[]): Promise<string> => {
      const id = ok(await crictl(ctd, ['create', pod, containerConfig(ctd, IMAGE, name, command), podJson]), `create ${name}`);
      ok(await crictl(ctd, ['start', id]), `start ${name}`);
      return id;
    };
    const c1 = await start('c1', ['/bin/sleep', '3600']);
    const c3 = await start('c3', ['/bin/sleep', '3600']);
    assert.equal(shimDaemons(ctd).length, 1, 'one shim daemon for the pod');
    assert.equal(readdirSync(ctd.vmRoot).length, 1, 'one utility VM for the pod');

    // ContainerStats: the pod's shim answers for each container (task Stats of that container).
    const stats = JSON.parse(ok(await crictl(ctd, ['stats', '-o', 'json', '--id', c1]), 'crictl stats')) as
      { stats: { attributes: { id: string }; memory?: { workingSetBytes?: { value: string } } }[] };
    assert.equal(stats.stats.length, 1, JSON.stringify(stats));
    assert.equal(stats.stats[0]?.attributes.id, c1);
    assert.ok(Number(stats.stats[0]?.memory?.workingSetBytes?.value) > 0, JSON.stringify(stats));

    // ExecSync (`--sync`): crictl prints stdout then stderr, each followed by a newline; a non-zero exit
    // comes back as an error naming the exit code and carrying stderr.
    const sync = await crictl(ctd, ['exec', '--sync', '--timeout', '30', c1, '/bin/sh', '-c', 'echo out; echo err >&2']);
    assert.equal(sync.code, 0, sync.stderr);
    assert.equal(sync.stdout, 'out\n\nerr\n\n');
    const failed = await crictl(ctd, ['exec', '--sync', '--timeout', '30', c1, '/bin/sh', '-c', 'echo out; echo err >&2; exit 7']);
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /exited with 7: err\\n/);
    // Streaming Exec: stdout and stderr apart, the exit code in crictl's error.
    const streamed = await crictl(ctd, ['exec', c1, '/bin/sh', '-c', 'echo out; echo err >&2; exit 7']);
    assert.equal(streamed.stdout, 'out\n');
    assert.equal(streamed.stderr.split('\n').filter((l) => !l.startsWith('time=')).join('\n'), 'err\n', streamed.stderr); // crictl's own lines apart
    assert.notEqual(streamed.code, 0);
    assert.match(streamed.stderr, /exit code 7/);

    // pid=POD: the workload sees the pause as pid 1 of the pod's pid namespace.
    const pid1 = ok(await crictl(ctd, ['exec', '--sync', c3, '/bin/cat', '/proc/1/cmdline']), 'cat /proc/1/cmdline');
    assert.deepEqual(pid1.split('\0').filter(Boolean), ['/bin/sleep', '2147483647']);

    // StopContainer with a timeout: c3 ends (SIGTERM, then SIGKILL), c1 and the pod live on; removing a
    // workload does not end the pod's shim.
    ok(await crictl(ctd, ['stop', '-t', '2', c3]), 'crictl stop -t 2');
    assert.equal((await exited(ctd, c3, ok)).state, 'CONTAINER_EXITED');
    const c1State = JSON.parse(ok(await crictl(ctd, ['inspect', c1]), 'inspect c1')) as { status: { state: string } };
    assert.equal(c1State.status.state, 'CONTAINER_RUNNING');
    ok(await crictl(ctd, ['rm', c3]), 'crictl rm c3');
    assert.equal(shimDaemons(ctd).length, 1, 'removing a workload does not end the pod shim');

    // StopPodSandbox stops every container; the shim and the VM go with the pod.
    ok(await crictl(ctd, ['stopp', pod]), 'crictl stopp');
    assert.equal((await exited(ctd, c1, ok)).state, 'CONTAINER_EXITED');
    ok(await crictl(ctd, ['rmp', pod]), 'crictl rmp');
    assert.equal(ok(await crictl(ctd, ['ps', '-a', '-q', '--pod', pod]), 'crictl ps'), '');
  });

  test('two pods at once: one shim daemon and one utility VM each', async () => {
    await images();
    const pods: string[] = [];
    for (const [name, n] of [['pa', 1], ['pb', 2]] as const) {
      const podJson = podConfig(name);
      const pod = ok(await crictl(ctd, ['runp', podJson]), `runp ${name}`);
      pods.push(pod);
      for (let i = 0; i < n; i++) {
        const id = ok(await crictl(ctd, ['create', pod, containerConfig(ctd, IMAGE, `${name}-${i}`, ['/bin/sleep', '3600']), podJson]), `create ${name}-${i}`);
        ok(await crictl(ctd, ['start', id]), `start ${name}-${i}`);
      }
    }
    assert.equal(shimDaemons(ctd).length, 2, `shim daemons: ${shimDaemons(ctd).join(', ')}`);
    assert.equal(readdirSync(ctd.vmRoot).length, 2, `VM dirs: ${readdirSync(ctd.vmRoot).join(', ')}`);
    for (const pod of pods) {
      ok(await crictl(ctd, ['stopp', pod]), 'crictl stopp');
      ok(await crictl(ctd, ['rmp', pod]), 'crictl rmp');
    }
  });
});
