/**
 * The product, end to end: real containerds (Debian's 1.6, the pinned 2.4; private instances) run containers with
 * `ctr … --runtime io.containerd.lcow.v1`, through our shim, the HCS emulator's utility VM, the GCS bridge
 * and the guest agent, with runc. After every test nothing may be left: no shim, guest or runc process,
 * no mount, no socket, no VM dir.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ociImageToLcowLayers } from '../../src/tar2ext4/index.js';
import { CONTAINERDS, NEEDS_ROOT, nodeActionProbe, PrivateContainerd, RUNTIME, SHIM_BIN_DIR, shimDaemonPid, usePrivateContainerd, waitForStatus } from './harness.js';
import { buildOciArchive } from './oci-image.js';
import { procStat } from '../fixtures/procfs.js';

for (const under of CONTAINERDS) describe(`ctr run through io.containerd.lcow.v1 [${under.label}]`, { skip: NEEDS_ROOT, timeout: 600_000 }, () => {
  const ctd = usePrivateContainerd(undefined, under);

  const ok = ctd.assertOk.bind(ctd);

  test('echo prints the container output', async () => {
    const r = await ctd.run('t-echo', ['/bin/echo', 'hello from LCOW']);
    ok(r, 'ctr run');
    assert.equal(r.stdout, 'hello from LCOW\n');
  });

  test('a clean run leaves the released marker before delete runs: delete then loads no HCS', async () => {
    ok(await ctd.run('t-released', ['/bin/true']), 'ctr run');
    // The daemon's log reaches containerd's through a FIFO, copied asynchronously.
    for (let i = 0; i < 50 && !/task released: marker left for delete[^\n]*tid=t-released/.test(ctd.log()); i++) await sleep(100);
    assert.match(ctd.log(), /task released: marker left for delete[^\n]*tid=t-released/);
    // containerd logs what `delete` wrote on stderr: 1.6 as "cleanup warnings", 2.4 as "warnings while cleaning up
    // dead shim" (core/runtime/v2/binary.go), after every task (2.4 runs `delete` once the shim disconnects).
    assert.doesNotMatch(ctd.log(), /(cleanup warnings|warnings while cleaning up dead shim)[^\n]*t-released/, 'delete had nothing to say');
  });

  test('a clean run: containerd\'s `delete` is answered by the executable\'s sh, without Node (the daemon left its socket gone)', async () => {
    const probe = nodeActionProbe(ctd);
    await ctd.restart(probe.env);
    try {
      ok(await ctd.run('t-sh-delete', ['/bin/true']), 'ctr run');
      assert.equal(probe.deletes(), '', 'no Node `delete` ran');
      // The probe sees a `delete` that goes to Node: one with nothing released (no marker in this bundle).
      const bundle = join(ctd.tmp, 'probe-bundle');
      mkdirSync(bundle, { recursive: true });
      const r = spawnSync(join(SHIM_BIN_DIR, 'containerd-shim-lcow-v1'), ['-namespace', 'probe', '-address', ctd.sock, '-id', 'probe', '-bundle', bundle, 'delete'],
        { env: { ...process.env, ...probe.env, LCOW_EMULATOR_ROOT: ctd.vmRoot, LCOW_SHIM_SOCKET_DIR: ctd.socketDir }, timeout: 60_000 });
      assert.equal(r.status, 0, r.stderr.toString());
      assert.match(probe.deletes(), /-id probe -bundle \S+ delete/);
    } finally {
      await ctd.restart();
    }
  });

  test('the exit code propagates to ctr', async () => {
    const r = await ctd.run('t-exit', ['/bin/sh', '-c', 'echo out; echo err >&2; exit 7']);
    assert.equal(r.code, 7, r.stderr);
    assert.equal(r.stdout, 'out\n');
    assert.match(r.stderr, /err/);
  });

  test('stdin is piped through cat until EOF', async () => {
    const input = Array.from({ length: 2000 }, (_, i) => `line ${i}`).join('\n') + '\n';
    const r = await ctd.run('t-cat', ['/bin/cat'], [], { input });
    ok(r, 'ctr run cat');
    assert.equal(r.stdout, input);
  });

  test('ctr task exec, ps and metrics on a running task; kill SIGKILL ends it with 137', async () => {
    const runner = ctd.run('t-exec', ['/bin/sh', '-c', 'sleep 300']);
    try {
    await waitForStatus(ctd, 't-exec', 'RUNNING');
    const ex = await ctd.ctr(['task', 'exec', '--exec-id', 'e1', 't-exec', '/bin/sh', '-c', 'echo from exec; exit 3']);
    assert.equal(ex.code, 3, ex.stderr);
    assert.equal(ex.stdout, 'from exec\n');
    const ps = await ctd.ctr(['task', 'ps', 't-exec']);
    ok(ps, 'ctr task ps');
    assert.match(ps.stdout, /PID/);
    assert.ok(ps.stdout.trim().split('\n').length >= 2, ps.stdout);
    const metrics = await ctd.ctr(['task', 'metrics', 't-exec']);
    ok(metrics, 'ctr task metrics');
    assert.match(metrics.stdout, /pids\.current|memory/);
    ok(await ctd.ctr(['task', 'kill', '-s', 'SIGKILL', 't-exec']), 'ctr task kill');
    const r = await runner;
    assert.equal(r.code, 137, r.stderr);
    } finally {
      await killAndWait(ctd, 't-exec', runner);
    }
  });

  test('kill SIGTERM reaches a process that traps it', async () => {
    const runner = ctd.run('t-term', ['/bin/sh', '-c', 'trap "echo got TERM; exit 143" TERM; while true; do sleep 0.1; done']);
    try {
    await waitForStatus(ctd, 't-term', 'RUNNING');
    await sleep(300);
    ok(await ctd.ctr(['task', 'kill', '-s', 'SIGTERM', 't-term']), 'ctr task kill');
    const r = await runner;
    assert.equal(r.code, 143, r.stderr);
    assert.match(r.stdout, /got TERM/);
    } finally {
      await killAndWait(ctd, 't-term', runner);
    }
  });

  test('a TTY run (-t) sees a terminal', async () => {
    const r = await ctd.ctrInPty(['run', '--rm', '-t', '--runtime', RUNTIME, '--rootfs', ctd.rootfs, 't-tty', '/bin/sh', '-c', 'tty && echo tty-ok']);
    assert.equal(r.code, 0, r.stdout);
    assert.match(r.stdout, /\/dev\/pts\/\d+/);
    assert.match(r.stdout, /tty-ok/);
  });

  test('an imported OCI image runs on overlay snapshot mounts', async () => {
    const archive = buildOciArchive(ctd.rootfs, ctd.tmp, 'docker.io/library/lcowtest:latest');
    ok(await ctd.ctr(['image', 'import', archive]), 'ctr image import');
    const r = await ctd.ctr(['run', '--rm', '--runtime', RUNTIME, 'docker.io/library/lcowtest:latest', 't-image', '/bin/sh', '-c', 'echo from image; ls /bin/busybox']);
    ok(r, 'ctr run image');
    assert.equal(r.stdout, 'from image\n/bin/busybox\n');
    ok(await ctd.ctr(['image', 'rm', 'docker.io/library/lcowtest:latest']), 'ctr image rm');
  });

  test('image layers in windows.layerFolders (ctr run --config): layer.vhd on VPMem, the scratch on SCSI; the layer keeps its bytes', async () => {
    const work = join(ctd.tmp, 'layers-work');
    mkdirSync(join(work, 'layers'), { recursive: true });
    mkdirSync(join(work, 'scratch'));
    const archive = buildOciArchive(ctd.rootfs, work, 'docker.io/library/lcowlayers:latest');
    const { layerFolders } = await ociImageToLcowLayers(archive, join(work, 'layers'));
    const digests = layerFolders.map((f) => sha256(join(f, 'layer.vhd')));
    execFileSync(join(SHIM_BIN_DIR, 'containerd-shim-lcow-v1'), ['create-scratch', '--destpath', join(work, 'scratch', 'sandbox.vhdx'), '--sizeGB', '1']);
    const defaults = await ctd.ctr(['oci', 'spec']);
    ok(defaults, 'ctr oci spec');
    const spec = JSON.parse(defaults.stdout) as { process: Record<string, unknown>; windows?: unknown };
    spec.process = { ...spec.process, terminal: false, env: ['PATH=/bin'], args: ['/bin/sh', '-c', 'echo written > /in-scratch && cat /in-scratch && ls /bin/busybox'] };
    spec.windows = { layerFolders: [...layerFolders, join(work, 'scratch')] };
    writeFileSync(join(work, 'spec.json'), JSON.stringify(spec));
    const logFrom = ctd.log().length;
    const r = await ctd.ctr(['run', '--rm', '--runtime', RUNTIME, '--config', join(work, 'spec.json'), 't-layers']);
    ok(r, 'ctr run --config with windows.layerFolders');
    assert.equal(r.stdout, 'written\n/bin/busybox\n');
    const log = ctd.log().slice(logFrom);
    assert.match(log, /HCS emulator: modified[^\n]*resourcePath=VirtualMachine\/Devices\/VirtualPMem\/Devices\/\d+/, 'the layer on VPMem');
    assert.match(log, /HCS emulator: modified[^\n]*resourcePath=VirtualMachine\/Devices\/Scsi\/[^/\s]+\/Attachments\/\d+/, 'the scratch on SCSI');
    assert.deepEqual(layerFolders.map((f) => sha256(join(f, 'layer.vhd'))), digests, 'no layer.vhd changed');
    const loops = execFileSync('losetup', ['--list', '--noheadings', '--output', 'BACK-FILE'], { encoding: 'utf8' });
    assert.deepEqual(loops.split('\n').filter((l) => l.includes(work)), [], 'no loop device left on the layers or the scratch');
  });

  test('10 containers at once', async () => {
    const runs = await Promise.all(Array.from({ length: 10 }, (_, i) => ctd.run(`t-many-${i}`, ['/bin/echo', `container ${i}`])));
    runs.forEach((r, i) => {
      ok(r, `container ${i}`);
      assert.equal(r.stdout, `container ${i}\n`);
    });
  });

  test('the bootstrap containerd recorded: plain address (1.6) or our BootstrapResult under socket_dir (2.4)', async () => {
    const runner = ctd.run('t-boot', ['/bin/sh', '-c', 'sleep 300']);
    try {
      await waitForStatus(ctd, 't-boot', 'RUNNING');
      const bundle = join(ctd.tmp, 'state', 'io.containerd.runtime.v2.task', 'default', 't-boot');
      const address = readFileSync(join(bundle, 'address'), 'utf8');
      assert.match(address, new RegExp(`^unix://${ctd.socketDir}/[0-9a-f]{64}$`), 'the socket is in the instance\'s socket dir');
      // What containerd handed `start` (flags and environment), as the daemon it spawned inherited them
      // (v2.4.2 core/runtime/v2/command.go: -namespace -address -publish-binary -id [-debug]; TTRPC_ADDRESS,
      // and on 2.x also GRPC_ADDRESS, NAMESPACE and MAX_SHIM_VERSION=2; 1.6 sets only TTRPC_ADDRESS).
      const pid = shimDaemonPid(ctd, 't-boot');
      assert.ok(pid !== undefined, 'the shim daemon runs');
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      const env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      const flag = (name: string): string | undefined => args[args.indexOf(name) + 1];
      assert.equal(flag('-namespace'), 'default');
      assert.equal(flag('-address'), ctd.sock);
      assert.equal(flag('-publish-binary'), realpathSync(ctd.under.major === 1 ? execFileSync('which', ['containerd'], { encoding: 'utf8' }).trim() : ctd.under.containerd));
      assert.ok(args.includes('-debug'), 'containerd at debug level passes -debug');
      const has = (e: string): void => assert.ok(env.includes(e), `${e} in ${env.join(' ')}`);
      has(`TTRPC_ADDRESS=${ctd.sock}.ttrpc`);
      // Who started the daemon (shim-wrapper.sh): sh, handing it a ready pipe, for both: 1.6 gives `start` an
      // empty stdin; 2.4's holds BootstrapParams, which sh spools and serve decodes (serve-start-input.ts). It
      // leads its own session, found its socket itself, wrote address and shim.pid, and stamped containerd's
      // "shim start" milestone with its own start.
      has('LCOW_SHIM_READY_FD=3');
      assert.equal(env.some((e) => e.startsWith('LCOW_SHIM_LISTEN_FD=')), false, 'not Node\'s start');
      assert.equal(env.some((e) => e.startsWith('LCOW_SHIM_START_INPUT=')), ctd.under.major !== 1, 'a spooled stdin on 2.4 only');
      assert.equal(procStat(pid)?.session, pid, 'the daemon leads its own session');
      assert.ok(!args.includes('-socket'), `no -socket: ${args.join(' ')}`);
      assert.match(ctd.log(), /msg="shim start" namespace=default tid=t-boot time-of=serve-process-start/);
      assert.deepEqual(readdirSync(bundle).filter((f) => f.startsWith('.')), [], 'no spool or temporary file left');
      assert.equal(readFileSync(join(bundle, 'shim.pid'), 'utf8'), String(pid), 'shim.pid names the daemon');
      const serving = ctd.log().split('\n').find((l) => l.includes('msg="shim serving"') && l.includes('tid=t-boot')) ?? '';
      assert.ok(serving.includes(`events-address=${ctd.sock}.ttrpc`), serving);
      if (ctd.under.major === 1) {
        assert.equal(existsSync(join(bundle, 'bootstrap.json')), false);
        has('LCOW_SHIM_LOG_LEVEL=debug');
        has('LCOW_SHIM_LOG_LEVEL_FROM=debug'); // -debug: nothing on stdin
      } else {
        // containerd 2.x writes what it parsed from our stdout (protobuf BootstrapResult) as JSON.
        assert.deepEqual(JSON.parse(readFileSync(join(bundle, 'bootstrap.json'), 'utf8')), { version: 2, address, protocol: 'ttrpc' });
        for (const e of [`GRPC_ADDRESS=${ctd.sock}`, 'NAMESPACE=default', 'MAX_SHIM_VERSION=2']) has(e);
        // serve decoded the BootstrapParams sh spooled (they count only when their id and namespace match): the
        // params' log level (containerd at debug), as its "shim serving" line in containerd's log says.
        assert.match(serving, / log-level=debug log-level-from=bootstrap /);
        assert.doesNotMatch(ctd.log(), /failed to query deprecated runtime-allow-mounts|-info\]: exit status/, 'containerd 2.4 ran `-info` fine');
      }
    } finally {
      await killAndWait(ctd, 't-boot', runner);
    }
  });

  test('ctr events shows create, start, exit, delete in order', async () => {
    const events = spawn(ctd.under.ctr, ['-a', ctd.sock, 'events'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    events.stdout.on('data', (d: Buffer) => (text += d.toString()));
    await sleep(300);
    ok(await ctd.run('t-events', ['/bin/true']), 'ctr run');
    await sleep(500);
    events.kill();
    const topics = text.split('\n').filter((l) => l.includes('t-events')).map((l) => /\/tasks\/[a-z-]+/.exec(l)?.[0]).filter(Boolean);
    assert.deepEqual(topics, ['/tasks/create', '/tasks/start', '/tasks/exit', '/tasks/delete'], text);
  });
});

const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

/** On the way out of a test, SIGKILL the task (if still there) and wait for its ctr, so a failure does not leak. */
async function killAndWait(ctd: PrivateContainerd, id: string, runner: Promise<unknown>): Promise<void> {
  await ctd.ctr(['task', 'kill', '-s', 'SIGKILL', id]);
  await runner;
}

