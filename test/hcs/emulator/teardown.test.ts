import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createHcsApi } from '../../../src/hcs/index.js';
import { emulatedVmDir } from '../../../src/transport/index.js';
import { removeVmCgroups } from '../../../src/hcs/emulator/teardown.js';
import { buildBootFiles, lcowDocument, tempDir, testLogger, uniqueId } from './helpers.js';

describe('emulator: teardown of a stopped VM', () => {
  let root: string;
  let boot: string;
  let fakeRunc: string;
  let runcLog: string;
  before(async () => {
    root = await tempDir('lcow-emu-td-');
    boot = await buildBootFiles(join(root, 'out'));
    runcLog = join(root, 'runc.log');
    fakeRunc = join(root, 'fake-runc');
    await writeFile(fakeRunc, `#!/bin/sh\necho "$*" >> '${runcLog}'\n`);
    await chmod(fakeRunc, 0o755);
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('is reachable through the backend factory, and kills + deletes every runc container under <vmDir>/runc', async () => {
    const vmRoot = join(root, 'vm');
    const api = await createHcsApi({ backend: 'emulator', emulator: { root: vmRoot, log: testLogger(), runcBinary: fakeRunc } });
    assert.equal(api.backend, 'emulator');
    const sys = await api.createComputeSystem(uniqueId('td'), lcowDocument(boot));
    const vmDir = emulatedVmDir((await sys.properties()).RuntimeId as string, vmRoot);
    const runcRoot = join(vmDir, 'runc');
    for (const id of ['c1', 'c2']) {
      await mkdir(join(runcRoot, id), { recursive: true });
      await writeFile(join(runcRoot, id, 'state.json'), '{}');
    }
    await mkdir(join(runcRoot, 'not-a-container'), { recursive: true }); // no state.json: left alone
    await sys.terminate();
    const calls = (await readFile(runcLog, 'utf8')).trim().split('\n').sort();
    assert.deepEqual(calls, [
      `--root ${runcRoot} delete -f c1`,
      `--root ${runcRoot} delete -f c2`,
      `--root ${runcRoot} kill c1 KILL`,
      `--root ${runcRoot} kill c2 KILL`,
    ]);
    assert.equal(existsSync(vmDir), false);
    await sys.close();
  });

  it('detaches a busy bind mount (lazily if need be) and never deletes host data through it', { skip: process.getuid?.() === 0 ? false : 'needs root (mount)' }, async () => {
    const vmRoot = join(root, 'vm2');
    const api = await createHcsApi({ backend: 'emulator', emulator: { root: vmRoot, log: testLogger(), runcBinary: fakeRunc } });
    const sys = await api.createComputeSystem(uniqueId('busy'), lcowDocument(boot));
    const vmDir = emulatedVmDir((await sys.properties()).RuntimeId as string, vmRoot);
    const data = join(root, 'data');
    await mkdir(data, { recursive: true });
    await writeFile(join(data, 'keep'), 'x');
    const target = join(vmDir, 'rootfs', 'data');
    await mkdir(target);
    execFileSync('mount', ['--bind', data, target]);
    execFileSync('mount', ['--make-private', target]);
    // Pin the mount: a bind that umount refuses ("target is busy") is simulated by an open cwd inside it.
    const holder = (await import('node:child_process')).spawn('sleep', ['30'], { cwd: target, stdio: 'ignore' });
    try {
      await sys.terminate();
    } finally {
      holder.kill('SIGKILL');
    }
    // Lazy unmount (the last pass) detaches even a busy mount, so the dir goes and the host data stays.
    assert.equal(await readFile(join(data, 'keep'), 'utf8'), 'x');
    assert.equal(existsSync(vmDir), false);
    await sys.close();
  });
});

describe('emulator: the VM cgroup parents (/lcow/<runtimeId>) go at teardown', () => {
  it('removes empty cgroup dirs under every hierarchy, keeps a populated one and other VMs', async () => {
    const root = await tempDir('lcow-emu-cg-');
    try {
      const rid = '11111111-2222-4333-8444-555555555555';
      const other = '99999999-2222-4333-8444-555555555555';
      await mkdir(join(root, 'cpu', 'lcow', rid, 'c1'), { recursive: true });
      await mkdir(join(root, 'memory', 'lcow', rid, 'busy'), { recursive: true });
      await writeFile(join(root, 'memory', 'lcow', rid, 'busy', 'tasks'), '42'); // a cgroup that still has members
      await mkdir(join(root, 'lcow', rid), { recursive: true }); // cgroup v2 layout
      await mkdir(join(root, 'cpu', 'lcow', other, 'c9'), { recursive: true });
      await removeVmCgroups(rid, root);
      assert.equal(existsSync(join(root, 'cpu', 'lcow', rid)), false);
      assert.equal(existsSync(join(root, 'lcow', rid)), false);
      assert.equal(existsSync(join(root, 'memory', 'lcow', rid, 'busy', 'tasks')), true, 'rmdir never removes a populated cgroup');
      assert.equal(existsSync(join(root, 'cpu', 'lcow', other, 'c9')), true, 'another VM is untouched');
      await removeVmCgroups(rid, join(root, 'does-not-exist')); // nothing there: no error
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
