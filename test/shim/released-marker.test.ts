/**
 * The released marker: the task service reports a task released only when its delete closed the VM, saw
 * it exit and released the rootfs; the marker file is trusted only when it names the daemon in shim.pid, and
 * carries the release time that `delete` reports as exited_at.
 * (`delete` honouring it, with the real binary: delete-cleanup.test.ts.)
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { RELEASED_MARKER, releasedByDaemon, writeReleasedMarker } from '../../src/shim/released-marker.js';
import { TASK_ID, harness, runningExec, runningTask, type Harness } from './support/task-harness.js';

const hs: Harness[] = [];
afterEach(async () => {
  for (const h of hs.splice(0)) await h.dispose();
});
async function setup(): Promise<Harness> {
  const h = await harness();
  hs.push(h);
  return h;
}

describe('the task service reports a released task', { timeout: 30_000 }, () => {
  it('after Delete of the exited init, with the task bundle; not for an exec, not before', async () => {
    const h = await setup();
    const init = await runningTask(h);
    const e1 = await runningExec(h, 'e1');
    e1.exit(0);
    await h.svc.wait(TASK_ID, 'e1');
    await h.svc.delete(TASK_ID, 'e1');
    assert.deepEqual(h.released, [], 'an exec delete releases nothing');
    init.exit(0);
    await h.svc.wait(TASK_ID, '');
    assert.deepEqual(h.released, [], 'the exit alone is not a delete');
    await h.svc.delete(TASK_ID, '');
    assert.deepEqual(h.released, [h.bundle]);
  });

  it('not when closing the VM failed (the VM may still run): Delete still succeeds', async () => {
    const h = await setup();
    await h.svc.create(h.createOptions());
    h.sandbox.closeError = new Error('terminate: access denied');
    const d = await h.svc.delete(TASK_ID, '');
    assert.equal(d.exitStatus, 0);
    assert.deepEqual(h.released, []);
  });
});

describe('the released marker file', () => {
  let dir: string;
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is trusted only when it names the daemon in shim.pid', async () => {
    dir = await mkdtemp(join(tmpdir(), 'released-'));
    assert.equal(releasedByDaemon(dir), undefined, 'no marker, no shim.pid');
    writeReleasedMarker(dir, 4242, 1_764_530_000_456);
    assert.equal(releasedByDaemon(dir), undefined, 'no shim.pid');
    await writeFile(join(dir, 'shim.pid'), '4242');
    assert.deepEqual(releasedByDaemon(dir), { releasedAtMs: 1_764_530_000_456 });
    await writeFile(join(dir, 'shim.pid'), '4243');
    assert.equal(releasedByDaemon(dir), undefined, 'another daemon');
    await writeFile(join(dir, RELEASED_MARKER), '');
    await writeFile(join(dir, 'shim.pid'), '');
    assert.equal(releasedByDaemon(dir), undefined, 'empty files');
  });

  it('holds the pid, then the release time in ms (now by default); a marker without a valid time is still trusted, without one', async () => {
    dir = await mkdtemp(join(tmpdir(), 'released-'));
    const before = Date.now();
    writeReleasedMarker(dir, 77);
    const [pid, at, end] = (await readFile(join(dir, RELEASED_MARKER), 'utf8')).split('\n');
    assert.equal(pid, '77');
    assert.ok(Number(at) >= before && Number(at) <= Date.now(), `release time ${at} is now`);
    assert.equal(end, '', 'each line ends with a newline');
    await writeFile(join(dir, 'shim.pid'), '77');
    // An older daemon's marker (the pid alone), and times the sh `delete` refuses too: trusted, no time.
    for (const text of ['77', '77\n', '77\n\n', '77\n0123\n', '77\n999\n', '77\n12345678901234567\n', '77\n1764530000456x\n', '77\n-1764530000456\n']) {
      await writeFile(join(dir, RELEASED_MARKER), text);
      assert.deepEqual(releasedByDaemon(dir), { releasedAtMs: undefined }, JSON.stringify(text));
    }
    await writeFile(join(dir, RELEASED_MARKER), '77\n1000\n');
    assert.deepEqual(releasedByDaemon(dir), { releasedAtMs: 1000 }, 'the smallest accepted time');
    await writeFile(join(dir, RELEASED_MARKER), ' 77\n1764530000456\n');
    assert.equal(releasedByDaemon(dir), undefined, 'the pid line is taken as written');
  });
});
