/**
 * mounts.ts's bindTool: binds, their read-only remounts and unmounts run BusyBox's mount/umount applets when
 * BusyBox is there (LCOW_GUEST_BUSYBOX, default /bin/busybox), else the system's mount(8)/umount(8); a failure
 * is the same E_FAIL naming the command line that ran.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import { HResult } from '../../src/errdefs/index.js';
import { GuestError } from '../../src/guest/errors.js';
import { bindMount, mountPointsUnder, rbindMount, unmount } from '../../src/guest/mounts.js';
import { silentLogger } from '../../src/guest/index.js';
import { tempDir } from './support/fixtures.js';

const saved = process.env['LCOW_GUEST_BUSYBOX'];
const dir = tempDir('lcowg-bind-');
after(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => {
  if (saved === undefined) delete process.env['LCOW_GUEST_BUSYBOX'];
  else process.env['LCOW_GUEST_BUSYBOX'] = saved;
});

/** The E_FAIL of a bind of a missing source, whose message must start with `prefix`. */
const failsWith = (prefix: string) => (e: unknown): boolean => {
  assert.ok(e instanceof GuestError, String(e));
  assert.equal(e.hresult, HResult.E_FAIL);
  assert.ok(e.message.startsWith(prefix), e.message);
  return true;
};

describe('guest: binds and unmounts through BusyBox when it is there', { skip: !existsSync('/bin/busybox') && 'no /bin/busybox' }, () => {
  const missing = join(dir, 'missing');
  const target = join(dir, 'target');
  mkdirSync(target, { recursive: true });

  it('by default /bin/busybox runs the mount', async () => {
    delete process.env['LCOW_GUEST_BUSYBOX'];
    await assert.rejects(bindMount(missing, target, false, silentLogger()), failsWith(`/bin/busybox mount --bind ${missing} ${target}: `));
  });

  it('LCOW_GUEST_BUSYBOX empty, or naming no executable: the system\'s mount(8)', async () => {
    for (const v of ['', join(dir, 'no-busybox')]) {
      process.env['LCOW_GUEST_BUSYBOX'] = v;
      await assert.rejects(bindMount(missing, target, false, silentLogger()), failsWith(`mount --bind ${missing} ${target}: `));
    }
  });

  it('a read-only recursive bind and its unmounts, compared byte for byte', async () => {
    delete process.env['LCOW_GUEST_BUSYBOX'];
    const src = join(dir, 'src');
    const inner = join(dir, 'inner');
    const dst = join(dir, 'dst');
    for (const d of [join(src, 'sub'), inner, dst]) mkdirSync(d, { recursive: true });
    writeFileSync(join(src, 'a.txt'), 'top\n');
    writeFileSync(join(inner, 'b.txt'), 'inner\n');
    await bindMount(inner, join(src, 'sub'), false, silentLogger());
    try {
      await rbindMount(src, dst, true, silentLogger());
      assert.deepEqual(await mountPointsUnder(dst), [join(dst, 'sub'), dst]);
      assert.equal(readFileSync(join(dst, 'a.txt'), 'utf8'), 'top\n');
      assert.equal(readFileSync(join(dst, 'sub', 'b.txt'), 'utf8'), 'inner\n');
      assert.throws(() => writeFileSync(join(dst, 'c.txt'), 'x'), { code: 'EROFS' });
      assert.throws(() => writeFileSync(join(dst, 'sub', 'c.txt'), 'x'), { code: 'EROFS' });
      await unmount(join(dst, 'sub'));
      await unmount(dst);
      assert.deepEqual(await mountPointsUnder(dst), []);
      await assert.rejects(unmount(dst), failsWith(`/bin/busybox umount ${dst}: `));
    } finally {
      for (const mp of [...(await mountPointsUnder(dst)), join(src, 'sub')]) await unmount(mp, true).catch(() => undefined);
    }
    assert.equal(readFileSync(join(src, 'a.txt'), 'utf8'), 'top\n');
    assert.deepEqual(await mountPointsUnder(src), []);
  });
});
