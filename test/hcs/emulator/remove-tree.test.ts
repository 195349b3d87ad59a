/**
 * removeTree (the VM dir's removal, fs.rm(recursive, force) semantics with synchronous calls): everything
 * below is gone, a symlink is removed and never followed (its target and the target's files survive, byte for
 * byte), a missing path is success, and an error other than "gone" is reported.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { removeTree } from '../../../src/hcs/emulator/remove-tree.js';

describe('emulator: removeTree', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'lcow-rmtree-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('removes a VM-dir-like tree, unlinking symlinks without following them', () => {
    const outside = join(root, 'outside');
    mkdirSync(join(outside, 'sub'), { recursive: true });
    const data = Buffer.from(Array.from({ length: 4096 }, (_, i) => i % 251));
    writeFileSync(join(outside, 'sub', 'data.bin'), data);
    const vm = join(root, 'vm');
    for (const d of ['plan9', 'rootfs/run/gcs/c/c1', 'runc', 'vsock', 'scsi']) mkdirSync(join(vm, d), { recursive: true });
    symlinkSync(outside, join(vm, 'plan9', '0')); // a share: a symlink to a host directory
    symlinkSync(join(outside, 'sub', 'data.bin'), join(vm, 'rootfs/run/gcs/c/c1/link'));
    for (const f of ['system.json', 'rootfs/run/gcs/c/c1/config.json', 'rootfs/run/gcs/c/c1/init.pid']) writeFileSync(join(vm, f), 'x');
    removeTree(vm);
    assert.equal(existsSync(vm), false);
    assert.deepEqual(readFileSync(join(outside, 'sub', 'data.bin')), data);
  });

  it('removes a symlink given as the root, not what it points to', () => {
    const dir = join(root, 'target-dir');
    mkdirSync(dir);
    writeFileSync(join(dir, 'keep'), 'kept');
    const link = join(root, 'link-root');
    symlinkSync(dir, link);
    removeTree(link);
    assert.throws(() => lstatSync(link), { code: 'ENOENT' });
    assert.equal(readFileSync(join(dir, 'keep'), 'utf8'), 'kept');
  });

  it('a missing path or a plain file is fine', () => {
    removeTree(join(root, 'no-such-dir'));
    const file = join(root, 'plain');
    writeFileSync(file, 'x');
    removeTree(file);
    assert.equal(existsSync(file), false);
  });

  it('reports an error other than a vanished entry, naming the path it could not remove', () => {
    const dir = join(root, 'busy');
    const inner = join(dir, 'inner');
    mkdirSync(inner, { recursive: true });
    // As root (CI): an (empty) mount on `inner` makes its rmdir fail with EBUSY; otherwise a read-only directory
    // refuses the unlink of its file (EACCES).
    const asRoot = process.getuid?.() === 0;
    if (asRoot) execFileSync('mount', ['-t', 'tmpfs', 'none', inner]);
    else {
      writeFileSync(join(inner, 'f'), 'x');
      chmodSync(inner, 0o500);
    }
    try {
      const want = asRoot ? { code: 'EBUSY', path: inner } : { code: 'EACCES', path: join(inner, 'f') };
      assert.throws(() => removeTree(dir), (err: NodeJS.ErrnoException) => err.code === want.code && err.path === want.path);
      assert.equal(existsSync(inner), true);
    } finally {
      if (asRoot) execFileSync('umount', [inner]);
      else chmodSync(inner, 0o755);
    }
  });
});
