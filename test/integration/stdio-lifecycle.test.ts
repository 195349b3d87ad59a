/**
 * The lifecycle of a process's stdio connections against a real containerd, 1.6 and 2.4 (issue 12.1/12.2):
 * - a client that writes its stdin late and fast, then closes: ctr sends CloseIO as soon as its own stdin
 *   ends, usually before the shim drained the FIFO; every byte must still reach the process;
 * - execs (successful and failed) leave no descriptor behind in the shim daemon.
 * Counts are asserted exactly; no timing is.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CONTAINERDS, NEEDS_ROOT, RUNTIME, usePrivateContainerd, type PrivateContainerd, shimDaemonPid, waitForStatus } from './harness.js';

const INPUT_BYTES = 20 << 20;
const RUNS = 20;

for (const under of CONTAINERDS) describe(`stdio connections of a process, end to end [${under.label}]`, { skip: NEEDS_ROOT, timeout: 900_000 }, () => {
  const ctd = usePrivateContainerd(undefined, under);
  const ok = ctd.assertOk.bind(ctd);
  let input = '';

  /** `(sleep 0.5; cat 20MB) | ctr …`: the writer starts late and closes right after the last byte. */
  function lateWriter(ctrArgs: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    input ||= makeInput(ctd);
    const ctr = [ctd.under.ctr, '-a', ctd.sock, ...ctrArgs].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
    return sh(`(sleep 0.5; cat '${input}') | ${ctr}`);
  }

  test(`ctr run: ${RUNS} late-writer stdin runs deliver every byte (wc -c in the container)`, async (t) => {
    const short: string[] = [];
    for (let i = 0; i < RUNS; i++) {
      const r = await lateWriter(['run', '--rm', '--runtime', RUNTIME, '--rootfs', ctd.rootfs, `t-stdin-${i}`, '/bin/wc', '-c']);
      ok(r, `run ${i}`);
      if (r.stdout.trim() !== String(INPUT_BYTES)) short.push(`run ${i}: ${r.stdout.trim()}`);
    }
    t.diagnostic(`${RUNS - short.length}/${RUNS} runs complete`);
    assert.deepEqual(short, [], `runs that lost stdin bytes (of ${INPUT_BYTES}):\n${short.join('\n')}`);
  });

  test(`ctr task exec: ${RUNS} late-writer stdin execs deliver every byte`, async (t) => {
    const runner = ctd.run('t-stdin-exec', ['/bin/sh', '-c', 'sleep 600']);
    try {
      await waitForStatus(ctd, 't-stdin-exec', 'RUNNING');
      const short: string[] = [];
      for (let i = 0; i < RUNS; i++) {
        const r = await lateWriter(['task', 'exec', '--exec-id', `wc-${i}`, 't-stdin-exec', '/bin/wc', '-c']);
        ok(r, `exec ${i}`);
        if (r.stdout.trim() !== String(INPUT_BYTES)) short.push(`exec ${i}: ${r.stdout.trim()}`);
      }
      t.diagnostic(`${RUNS - short.length}/${RUNS} execs complete`);
      assert.deepEqual(short, [], `execs that lost stdin bytes (of ${INPUT_BYTES}):\n${short.join('\n')}`);
    } finally {
      await ctd.ctr(['task', 'kill', '-s', 'SIGKILL', 't-stdin-exec']);
      await runner;
    }
  });

  test('200 execs (150 that run, 50 that fail to start) leave the shim daemon with the descriptors it had', async (t) => {
    const id = 't-fds';
    const runner = ctd.run(id, ['/bin/sh', '-c', 'sleep 600']);
    try {
      await waitForStatus(ctd, id, 'RUNNING');
      const shim = shimDaemonPid(ctd, id);
      assert.ok(shim !== undefined, 'the shim daemon is running');
      const exec = async (n: number): Promise<void> => {
        if (n % 4 === 3) {
          const r = await ctd.ctr(['task', 'exec', '--exec-id', `x${n}`, id, '/no/such/binary']);
          assert.notEqual(r.code, 0, `exec ${n} of a missing binary must fail`);
        } else {
          const r = await ctd.ctr(['task', 'exec', '--exec-id', `x${n}`, id, '/bin/echo', `exec ${n}`]);
          ok(r, `exec ${n}`);
          assert.equal(r.stdout, `exec ${n}\n`);
        }
      };
      for (let n = 0; n < 4; n++) await exec(n); // warm-up: lazily opened descriptors are not leaks
      const before = await settledFdCount(shim);
      for (let n = 4; n < 204; n++) await exec(n);
      const after = await settledFdCount(shim, before);
      t.diagnostic(`shim daemon fds: ${before} before, ${after} after 200 execs`);
      assert.equal(after, before, `descriptors leaked by 200 execs:\n${fdList(shim).join('\n')}`);
    } finally {
      await ctd.ctr(['task', 'kill', '-s', 'SIGKILL', id]);
      await runner;
    }
  });
});

function makeInput(ctd: PrivateContainerd): string {
  const path = join(ctd.tmp, 'stdin-20MiB.bin');
  const b = Buffer.alloc(INPUT_BYTES);
  for (let i = 0; i < b.length; i++) b[i] = (i * 2654435761) >>> 24;
  writeFileSync(path, b);
  return path;
}

function sh(script: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env = { ...process.env };
    delete env.NODE_EXTRA_CA_CERTS;
    execFile('sh', ['-c', script], { env, timeout: 120_000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

function fdList(pid: number): string[] {
  return readdirSync(`/proc/${pid}/fd`).map((fd) => {
    try {
      return `${fd} -> ${readlinkSync(`/proc/${pid}/fd/${fd}`)}`;
    } catch {
      return fd;
    }
  });
}

/** The fd count once it stops changing (a finished exec's sockets close asynchronously); bounded. */
async function settledFdCount(pid: number, target?: number): Promise<number> {
  let last = -1;
  for (let i = 0; i < 100; i++) {
    const n = readdirSync(`/proc/${pid}/fd`).length;
    if (n === target || (target === undefined && n === last)) return n;
    last = n;
    await sleep(100);
  }
  return last;
}
