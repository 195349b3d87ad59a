/** Process identity (start time + image) on Linux, and the comparison `delete` uses before it signals. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import { createTransport, linuxProcessIdentity, parseProcessIdentity, sameProcess } from '../../src/transport/index.js';

describe('process identity', () => {
  test('this process: its executable and a start time that does not change', async () => {
    const me = await createTransport({ platform: 'linux' }).processIdentity(process.pid);
    assert.ok(me !== undefined);
    assert.equal(me.pid, process.pid);
    assert.equal(me.image, realpathSync(process.execPath));
    assert.match(me.startTime, /^\d+$/);
    assert.deepEqual(linuxProcessIdentity(process.pid), me);
    assert.ok(sameProcess(me, linuxProcessIdentity(process.pid)));
  });

  test('another process is not the same process; a gone one has no identity', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    await once(child, 'spawn');
    const pid = child.pid ?? 0;
    const other = linuxProcessIdentity(pid);
    assert.ok(other !== undefined);
    const me = linuxProcessIdentity(process.pid);
    assert.ok(me !== undefined);
    assert.equal(sameProcess(me, other), false, 'different pid');
    assert.equal(sameProcess({ ...other, startTime: `${other.startTime}1` }, other), false, 'same pid, other start time');
    assert.equal(sameProcess({ ...other, image: '/bin/other' }, other), false, 'same pid, other image');
    child.kill('SIGKILL');
    await once(child, 'exit');
    assert.equal(linuxProcessIdentity(pid), undefined);
    assert.equal(sameProcess(other, undefined), false);
  });

  test('a recorded identity parses only when complete', () => {
    const ok = { pid: 7, startTime: '133', image: 'C:\\shim.exe' };
    assert.deepEqual(parseProcessIdentity(JSON.stringify(ok)), ok);
    assert.equal(parseProcessIdentity('7'), undefined);
    assert.equal(parseProcessIdentity(JSON.stringify({ ...ok, startTime: '' })), undefined);
    assert.equal(parseProcessIdentity('{'), undefined);
    assert.ok(sameProcess(ok, { ...ok, image: 'c:\\SHIM.EXE' }), 'Windows paths compare without case');
  });
});
