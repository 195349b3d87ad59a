/**
 * The `diag` subcommand (hcsshim's shimdiag) against shims a real containerd (1.6 and 2.4) started: it finds the
 * namespace's shims in containerd's state directory and speaks containerd.runhcs.v1.diag.ShimDiag on their
 * ttrpc address. Also signals as containerd relays them: a real-time signal is refused, an exec's delete.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CONTAINERDS, NEEDS_ROOT, diagCli, usePrivateContainerd, waitForStatus } from './harness.js';

const diag = diagCli;

for (const under of CONTAINERDS) describe(`diag (shimdiag) through a real containerd [${under.label}]`, { skip: NEEDS_ROOT, timeout: 600_000 }, () => {
  const ctd = usePrivateContainerd(undefined, under);
  const ok = ctd.assertOk.bind(ctd);

  test('list, tasks, stacks, exec and share against a running task', async () => {
    const runner = ctd.run('t-diag', ['/bin/sh', '-c', 'sleep 300']);
    const share = mkdtempSync(join(ctd.tmp, 'share-'));
    try {
      await waitForStatus(ctd, 't-diag', 'RUNNING');
      const bundle = join(ctd.tmp, 'state', 'io.containerd.runtime.v2.task', 'default', 't-diag');
      const shimPid = readFileSync(join(bundle, 'shim.pid'), 'utf8').trim();

      const list = await diag(ctd, ['list', '--pids']);
      ok(list, 'diag list');
      assert.equal(list.stdout, `t-diag\t${shimPid}\n`);

      ok(await ctd.ctr(['task', 'exec', '--detach', '--exec-id', 'e1', 't-diag', '/bin/sleep', '300']), 'ctr task exec');
      const tasks = await diag(ctd, ['tasks', '--execs', 't-d']); // a unique prefix names the shim
      ok(tasks, 'diag tasks');
      assert.equal(tasks.stdout, 't-diag\n  running\t(init)\n  running\te1\n');

      const stacks = await diag(ctd, ['stacks', 't-diag']);
      ok(stacks, 'diag stacks');
      assert.match(stacks.stdout, new RegExp(`^Stacks:\\npid ${shimPid}, node v`));
      assert.match(stacks.stdout, /\nGuest Stacks:\n\S/, 'the guest advertises DumpStacksSupported');

      const ex = await diag(ctd, ['exec', 't-diag', '/bin/sh', '-c', 'echo "in vm $(pwd)"; cat; echo err >&2; exit 5'], 'piped stdin\n');
      assert.equal(ex.code, 5, `stdout: ${ex.stdout}\nstderr: ${ex.stderr}\n${ctd.log().slice(-2000)}`);
      assert.match(ex.stdout, /^in vm \/.*\npiped stdin\n$/);
      assert.equal(ex.stderr, 'err\n');

      // A host directory shared into the VM is visible there, read-only when asked.
      writeFileSync(join(share, 'data.txt'), 'shared bytes\n');
      const sh = await diag(ctd, ['share', '--ro', 't-diag', share, '/run/diag-share']);
      ok(sh, 'diag share');
      assert.equal(sh.stdout, `Shared ${share} into t-diag at /run/diag-share\n`);
      const cat = await diag(ctd, ['exec', 't-diag', '/bin/sh', '-c', 'cat run/diag-share/data.txt && ! touch run/diag-share/x 2>/dev/null']);
      ok(cat, 'cat the shared file in the VM');
      assert.equal(cat.stdout, 'shared bytes\n');

      const bad = await diag(ctd, ['share', 't-diag', join(share, 'missing'), '/run/x']);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /does not exist/);
      const none = await diag(ctd, ['stacks', 'nope']);
      assert.equal(none.code, 1);
      assert.match(none.stderr, /no such shim 'nope'/);

      // Signals as containerd relays them: a real-time signal is refused (FailedPrecondition).
      const rt = await ctd.ctr(['task', 'kill', '-s', '40', 't-diag']);
      assert.notEqual(rt.code, 0);
      assert.match(rt.stderr, /signal 40: invalid signal value/);
    } finally {
      await ctd.ctr(['task', 'kill', '-s', 'SIGKILL', '--all', 't-diag']);
      await runner;
      rmSync(share, { recursive: true, force: true });
    }
  });

  test('an exec delete is published as /tasks/delete with the exec id', async () => {
    const events = spawn(ctd.under.ctr, ['-a', ctd.sock, 'events'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let text = '';
    events.stdout.on('data', (d: Buffer) => (text += d.toString()));
    const gone = new Promise((r) => events.once('exit', r));
    await sleep(300);
    const runner = ctd.run('t-evt', ['/bin/sh', '-c', 'sleep 300']);
    try {
      await waitForStatus(ctd, 't-evt', 'RUNNING');
      const ex = await ctd.ctr(['task', 'exec', '--exec-id', 'e7', 't-evt', '/bin/sh', '-c', 'exit 4']);
      assert.equal(ex.code, 4, ex.stderr);
      const line = (): string | undefined => text.split('\n').find((l) => l.includes('/tasks/delete') && l.includes('"e7"'));
      for (let i = 0; i < 100 && line() === undefined; i++) await sleep(100);
      assert.match(line() ?? text, /"container_id":"t-evt"/);
    } finally {
      await ctd.ctr(['task', 'kill', '-s', 'SIGKILL', 't-evt']);
      await runner;
      events.kill();
      await gone;
    }
  });
});
