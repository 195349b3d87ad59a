/**
 * Pause/Resume through real containerds (1.6 and 2.4) with `ctr task pause|resume`: the container is frozen
 * in the guest (the host runs `runc pause` in the utility VM, as it would against Microsoft's GCS), so a
 * counter it prints stops and then goes on without a lost or repeated line; `ctr task ls` shows PAUSED;
 * /tasks/paused and /tasks/resumed reach containerd's event stream; the errors containerd-shim-runc-v2 gives
 * (pause of a paused task, resume of a running one, exec into a paused task); Pids while paused; a SIGKILL
 * of a paused task ends it (runc thaws it for the kill, as under runc-v2).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CONTAINERDS, NEEDS_ROOT, RUNTIME, usePrivateContainerd, waitForStatus, type PrivateContainerd } from './harness.js';

/** `ctr <args>` in the foreground with its stdout collected as it comes. */
class StreamingCtr {
  private readonly child: ChildProcess;
  out = '';
  err = '';
  readonly exited: Promise<number>;

  constructor(ctd: PrivateContainerd, args: string[]) {
    const env = { ...process.env };
    delete env.NODE_EXTRA_CA_CERTS;
    this.child = spawn(ctd.under.ctr, ['-a', ctd.sock, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout?.on('data', (b: Buffer) => (this.out += b.toString('utf8')));
    this.child.stderr?.on('data', (b: Buffer) => (this.err += b.toString('utf8')));
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1))));
  }

  /** Resolves once the output satisfies `test` (bounded: 60 s, generous for a loaded machine). */
  async until(test: (out: string) => boolean, what: string): Promise<void> {
    for (let i = 0; i < 600; i++) {
      if (test(this.out)) return;
      await sleep(100);
    }
    throw new Error(`${what}: not seen in 60 s; output so far: ${JSON.stringify(this.out.slice(-200))} stderr: ${this.err}`);
  }

  kill(): void {
    this.child.kill('SIGTERM');
  }
}

/** The last counter line printed so far (0 before the first). */
const lastCount = (out: string): number => Number(out.trimEnd().split('\n').at(-1) || 0);

/**
 * Waits until the output stops growing (two reads 1 s apart agree; a frozen process's last lines may
 * still be on their way through the relays), then returns it. Throws if it never settles within 30 s:
 * a counter that is still running never does.
 */
async function quiescent(c: StreamingCtr): Promise<string> {
  let prev = c.out;
  for (let i = 0; i < 30; i++) {
    await sleep(1000);
    if (c.out === prev) return prev;
    prev = c.out;
  }
  throw new Error(`the output kept growing for 30 s after the pause: ${JSON.stringify(c.out.slice(-100))}`);
}

const COUNTER = ['/bin/sh', '-c', 'i=0; while :; do i=$((i+1)); echo $i; sleep 0.1; done'];

for (const under of CONTAINERDS) describe(`Pause/Resume through a real containerd [${under.label}]`, { skip: NEEDS_ROOT, timeout: 600_000 }, () => {
  const ctd = usePrivateContainerd(async (c) => {
    await c.ctr(['task', 'kill', '-s', 'SIGKILL', 't-pause']);
    await c.ctr(['task', 'kill', '-s', 'SIGKILL', 't-pkill']);
  }, under);
  const ok = ctd.assertOk.bind(ctd);

  test('pause stops the counter, PAUSED in ctr task ls, resume goes on with every line once; events; runc-v2 errors', async () => {
    const events = new StreamingCtr(ctd, ['events']);
    const run = new StreamingCtr(ctd, ['run', '--rm', '--runtime', RUNTIME, '--rootfs', ctd.rootfs, 't-pause', ...COUNTER]);
    try {
      await run.until((o) => lastCount(o) >= 5, 'the counter reaching 5');
      ok(await ctd.ctr(['task', 'pause', 't-pause']), 'ctr task pause');
      const ls = await ctd.ctr(['task', 'ls']);
      assert.match(ls.stdout, /^t-pause\s+\d+\s+PAUSED$/m, ls.stdout);
      const frozen = await quiescent(run);
      await sleep(1500);
      assert.equal(run.out, frozen, 'nothing printed while paused');
      const paused = lastCount(frozen);

      // What runc-v2 answers in the same states (plain errors: gRPC Unknown).
      const again = await ctd.ctr(['task', 'pause', 't-pause']);
      assert.notEqual(again.code, 0);
      assert.match(again.stderr, /cannot pause a paused container/);
      const exec = await ctd.ctr(['task', 'exec', '--exec-id', 'e1', 't-pause', '/bin/true']);
      assert.notEqual(exec.code, 0);
      assert.match(exec.stderr, /cannot exec in a paused state/);
      const ps = await ctd.ctr(['task', 'ps', 't-pause']);
      ok(ps, 'ctr task ps while paused');
      assert.match(ps.stdout, /^\d+/m, 'the paused task lists its pids');

      ok(await ctd.ctr(['task', 'resume', 't-pause']), 'ctr task resume');
      await waitForStatus(ctd, 't-pause', 'RUNNING');
      await run.until((o) => lastCount(o) >= paused + 5, 'the counter going on after resume');
      const notPaused = await ctd.ctr(['task', 'resume', 't-pause']);
      assert.notEqual(notPaused.code, 0);
      assert.match(notPaused.stderr, /cannot resume a running process/);
      ok(await ctd.ctr(['task', 'exec', '--exec-id', 'e2', 't-pause', '/bin/true']), 'exec after resume');

      ok(await ctd.ctr(['task', 'kill', '-s', 'SIGKILL', 't-pause']), 'ctr task kill');
      await run.exited;
      // Every line exactly once, in order: the bytes before and after the pause are the same counter.
      const n = lastCount(run.out);
      const expected = Array.from({ length: n }, (_, i) => `${i + 1}\n`).join('');
      assert.equal(run.out, expected);
      await events.until((o) => /\/tasks\/resumed/.test(o), 'the /tasks/resumed event');
      assert.match(events.out, /\/tasks\/paused\s+\{?.*t-pause/);
      assert.match(events.out, /\/tasks\/resumed\s+\{?.*t-pause/);
      assert.ok(events.out.indexOf('/tasks/paused') < events.out.indexOf('/tasks/resumed'));
    } finally {
      run.kill();
      events.kill();
      await events.exited;
    }
  });

  test('a SIGKILL of a paused task ends it (137) and the task is deleted', async () => {
    const run = new StreamingCtr(ctd, ['run', '--rm', '--runtime', RUNTIME, '--rootfs', ctd.rootfs, 't-pkill', ...COUNTER]);
    try {
      await run.until((o) => lastCount(o) >= 2, 'the counter reaching 2');
      ok(await ctd.ctr(['task', 'pause', 't-pkill']), 'ctr task pause');
      await waitForStatus(ctd, 't-pkill', 'PAUSED');
      ok(await ctd.ctr(['task', 'kill', '-s', 'SIGKILL', 't-pkill']), 'ctr task kill of the paused task');
      assert.equal(await run.exited, 137, run.err);
      const ls = await ctd.ctr(['task', 'ls']);
      assert.doesNotMatch(ls.stdout, /t-pkill/);
    } finally {
      run.kill();
    }
  });
});
