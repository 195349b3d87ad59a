/**
 * The `serve` daemon's idle reclaim (src/reclaim) through real containerds: with a container running and no
 * request for 250 ms, the daemon calls the built addon (V8's low-memory GC, malloc_trim) once and logs what its
 * RSS was before and after, once: a daemon then polled with State does not do it again; the
 * container and its output are unaffected. Figures (how far RSS drops, how soon) are the bench's
 * (scripts/bench.sh), not asserted here beyond "it dropped".
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CONTAINERDS, NEEDS_ROOT, PrivateContainerd, shimDaemonPid, waitForStatus } from './harness.js';

const RETURNED = /msg="memory returned while idle" (.*)$/;

interface ReturnedLine { before: number; after: number; v8: string; trim: string }

function returnedLines(ctd: PrivateContainerd, id: string): ReturnedLine[] {
  return ctd.log().split('\n').filter((l) => l.includes(`tid=${id}`)).flatMap((l) => {
    const m = RETURNED.exec(l);
    if (m === null) return [];
    const field = (k: string): string => new RegExp(`(?:^| )${k}=(\\S+)`).exec(m[1] ?? '')?.[1] ?? '';
    return [{ before: Number(field('rss-before-mb')), after: Number(field('rss-after-mb')), v8: field('v8'), trim: field('malloc-trim') }];
  });
}

for (const under of CONTAINERDS) describe(`the serve daemon gives its start-up memory back once idle [${under.label}]`, { skip: NEEDS_ROOT, timeout: 300_000 }, () => {
  const ctd = new PrivateContainerd(under);
  before(() => ctd.start());
  after(() => ctd.stop());
  afterEach(async () => assert.deepEqual(await ctd.settled(), []));

  test('a running container: one reclaim (V8 GC and malloc_trim) soon after Start, RSS lower after it, none again while steady', async () => {
    const id = 't-reclaim';
    const runner = ctd.run(id, ['/bin/sh', '-c', 'echo started; sleep 300']);
    let killed = false;
    try {
      await waitForStatus(ctd, id, 'RUNNING');
      let lines: ReturnedLine[] = [];
      for (let i = 0; i < 200 && lines.length === 0; i++, await sleep(50)) lines = returnedLines(ctd, id);
      assert.equal(lines.length, 1, `one "memory returned while idle" line for ${id}\n${ctd.log().slice(-3000)}`);
      const line = lines[0]!;
      assert.equal(line.v8, 'true');
      assert.equal(line.trim, 'true');
      assert.ok(line.after < line.before, `RSS ${line.before} -> ${line.after} MB`);
      assert.ok(shimDaemonPid(ctd, id) !== undefined, 'the daemon still serves');
      // State polls (ctr task ls, ps) are requests too; they do not reclaim again (once per daemon).
      for (let i = 0; i < 4; i++) {
        ctd.assertOk(await ctd.ctr(['task', 'ls']), 'ctr task ls');
        ctd.assertOk(await ctd.ctr(['task', 'ps', id]), 'ctr task ps');
        await sleep(300);
      }
      assert.equal(returnedLines(ctd, id).length, 1, 'still one reclaim while steady');
      ctd.assertOk(await ctd.ctr(['task', 'kill', '-s', 'SIGKILL', id]), 'ctr task kill');
      killed = true;
      const r = await runner;
      assert.equal(r.code, 137);
      assert.equal(r.stdout, 'started\n', 'the container\'s output is intact');
    } finally {
      if (!killed) {
        await ctd.ctr(['task', 'kill', '-s', 'SIGKILL', id]);
        await runner;
      }
    }
  });
});
