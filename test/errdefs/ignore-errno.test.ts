import assert from 'node:assert/strict';
import { lstat, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ShimError, ErrorCode, errnoOf, ignoreAbsent, ignoreErrno } from '../../src/errdefs/index.js';

const sysErr = (code: string): Error => Object.assign(new Error(`${code}: test`), { code });

describe('errdefs: ignoreErrno / ignoreAbsent', () => {
  it('errnoOf reads a system error\'s code and nothing else', () => {
    assert.equal(errnoOf(sysErr('ENOENT')), 'ENOENT');
    assert.equal(errnoOf(new Error('plain')), undefined);
    assert.equal(errnoOf('ENOENT'), undefined);
    assert.equal(errnoOf(null), undefined);
  });

  it('ignores exactly the codes given and rethrows every other error unchanged', async () => {
    const handler = ignoreErrno('ENOENT', 'EBUSY');
    assert.equal(handler(sysErr('ENOENT')), undefined);
    assert.equal(handler(sysErr('EBUSY')), undefined);
    const other = sysErr('EACCES');
    assert.throws(() => handler(other), (e) => e === other);
    const shim = new ShimError(ErrorCode.NotFound, 'not a system error');
    assert.throws(() => handler(shim), (e) => e === shim);
    await assert.rejects(Promise.reject(sysErr('EPERM')).catch(handler), /EPERM/);
  });

  it('ignoreAbsent: a path that is not there (ENOENT, ENOTDIR) on a real file system', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ignore-errno-'));
    try {
      await writeFile(join(dir, 'file'), 'x');
      assert.equal(await lstat(join(dir, 'missing')).catch(ignoreAbsent), undefined);
      assert.equal(await lstat(join(dir, 'file', 'below')).catch(ignoreAbsent), undefined); // ENOTDIR
      assert.equal((await lstat(join(dir, 'file')).catch(ignoreAbsent))?.isFile(), true);
      assert.throws(() => ignoreAbsent(sysErr('EACCES')), /EACCES/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
