/**
 * Volumes with host paths through a real containerd (1.6 and 2.4), as runhcs maps them (issue 16 item 6):
 * `ctr run --mount type=bind,…` directories and single files become Plan9 shares at /run/gcs/c/<id>/mounts/m<i>
 * (a file: its directory restricted to that file, nothing else of it in the VM), `ro` is read-only, and a
 * `virtual-disk` mount is attached over SCSI and mounted by the guest. Bytes are compared both ways; after
 * each test nothing may be left (the harness checks mounts, processes, sockets, VM dirs) and no loop device.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { CONTAINERDS, NEEDS_ROOT, SHIM_BIN_DIR, diagCli, usePrivateContainerd, waitForStatus } from './harness.js';

const md5 = (b: Buffer | string): string => execFileSync('md5sum', { input: b, encoding: 'utf8' }).split(' ')[0] ?? '';

for (const under of CONTAINERDS) describe(`volumes with host paths [${under.label}]`, { skip: NEEDS_ROOT, timeout: 600_000 }, () => {
  const ctd = usePrivateContainerd(async (c) => {
    for (const id of ['t-vol-rw', 't-vol-ro', 't-vol-file', 't-vol-disk', 't-vol-bad']) await c.ctr(['container', 'rm', id]);
  }, under);
  const ok = ctd.assertOk.bind(ctd);

  test('directories: rw bytes flow both ways, ro refuses writes, the host keeps every byte', async () => {
    const rw = mkdtempSync(join(ctd.tmp, 'vol-rw-'));
    const ro = mkdtempSync(join(ctd.tmp, 'vol-ro-'));
    const fromHost = randomBytes(200_000);
    writeFileSync(join(rw, 'from-host.bin'), fromHost);
    writeFileSync(join(ro, 'kept.txt'), 'read-only bytes\n');
    const r = await ctd.run('t-vol-rw', ['/bin/sh', '-c', [
      'md5sum /data/from-host.bin',
      'head -c 150000 /dev/urandom > /data/from-container.bin && md5sum /data/from-container.bin',
      'cat /ro/kept.txt',
      'echo x > /ro/new.txt 2>/dev/null || echo ro-write-refused',
      'echo y >> /ro/kept.txt 2>/dev/null || echo ro-append-refused',
    ].join('; ')], ['--mount', `type=bind,src=${rw},dst=/data,options=rbind:rw`, '--mount', `type=bind,src=${ro},dst=/ro,options=rbind:ro`]);
    ok(r, 'ctr run with a rw and a ro bind mount');
    const lines = r.stdout.split('\n');
    assert.equal(lines[0], `${md5(fromHost)}  /data/from-host.bin`, 'the container reads the host bytes');
    const written = readFileSync(join(rw, 'from-container.bin'));
    assert.equal(written.length, 150_000);
    assert.equal(lines[1], `${md5(written)}  /data/from-container.bin`, 'the host has the bytes the container wrote');
    assert.deepEqual(lines.slice(2), ['read-only bytes', 'ro-write-refused', 'ro-append-refused', '']);
    assert.deepEqual(readdirSync(ro), ['kept.txt']);
    assert.equal(readFileSync(join(ro, 'kept.txt'), 'utf8'), 'read-only bytes\n');
    assert.ok(readFileSync(join(rw, 'from-host.bin')).equals(fromHost), 'the host file is unchanged');
    rmSync(rw, { recursive: true });
    rmSync(ro, { recursive: true });
  });

  test('a single file: only that file of its directory is in the VM; writes reach the host; bad sources are refused', async () => {
    const dir = mkdtempSync(join(ctd.tmp, 'vol-file-'));
    writeFileSync(join(dir, 'app.conf'), 'setting=1\n');
    writeFileSync(join(dir, 'secret.key'), 'not for the VM\n');
    const runner = ctd.run('t-vol-file', ['/bin/sh', '-c', 'echo setting=2 > /etc/app.conf; sleep 300'],
      ['--mount', `type=bind,src=${join(dir, 'app.conf')},dst=/etc/app.conf,options=rbind:rw`]);
    try {
      await waitForStatus(ctd, 't-vol-file', 'RUNNING');
      // The VM side: the share's directory under the container's root holds the one file and nothing else.
      const ls = await diagCli(ctd, ['exec', 't-vol-file', '/bin/sh', '-c', 'cd run/gcs/c/t-vol-file/mounts && for m in *; do echo "$m:"; ls -A "$m"; done']);
      ok(ls, 'diag exec ls of the VM-side share');
      assert.match(ls.stdout, /^m\d+:\napp\.conf\n$/);
      for (let i = 0; i < 100 && readFileSync(join(dir, 'app.conf'), 'utf8') !== 'setting=2\n'; i++) await new Promise((r) => setTimeout(r, 100));
      assert.equal(readFileSync(join(dir, 'app.conf'), 'utf8'), 'setting=2\n', 'the container wrote the host file');
      // diag share of a file: the same restriction.
      ok(await diagCli(ctd, ['share', '--ro', 't-vol-file', join(dir, 'secret.key'), '/run/diag-file']), 'diag share of a file');
      const shared = await diagCli(ctd, ['exec', 't-vol-file', '/bin/sh', '-c', 'ls -A run/diag-file; cat run/diag-file/secret.key; echo z > run/diag-file/secret.key || echo refused']);
      assert.equal(shared.stdout, 'secret.key\nnot for the VM\nrefused\n', shared.stderr);
      ok(await ctd.ctr(['task', 'kill', '-s', 'KILL', 't-vol-file']), 'kill');
      await runner;
    } finally {
      await ctd.ctr(['task', 'kill', '-s', 'KILL', 't-vol-file']);
      await runner;
    }
    assert.deepEqual(readdirSync(dir).sort(), ['app.conf', 'secret.key']);
    assert.equal(readFileSync(join(dir, 'secret.key'), 'utf8'), 'not for the VM\n');

    const missing = await ctd.run('t-vol-bad', ['/bin/true'], ['--mount', `type=bind,src=${join(dir, 'missing')},dst=/data,options=rbind:rw`]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /mount \d+ \(".*missing" → "\/data"\): the host path \S+missing does not exist/);
    await ctd.ctr(['container', 'rm', 't-vol-bad']);
    rmSync(dir, { recursive: true });
  });

  test('virtual-disk (a VHDX) and physical-disk (a host block device) attached over SCSI, mounted by the guest; bytes persist; no loop device left', async () => {
    const work = mkdtempSync(join(ctd.tmp, 'vol-disk-'));
    const vhdx = join(work, 'data.vhdx');
    execFileSync(join(SHIM_BIN_DIR, 'containerd-shim-lcow-v1'), ['create-scratch', '--destpath', vhdx, '--sizeGB', '1']);
    const payload = randomBytes(100_000);
    mkdirSync(join(work, 'in'));
    writeFileSync(join(work, 'in', 'payload.bin'), payload);
    const logFrom = ctd.log().length;
    const w = await ctd.run('t-vol-disk', ['/bin/sh', '-c', 'cp /in/payload.bin /disk/payload.bin && md5sum /disk/payload.bin'], [
      '--mount', `type=virtual-disk,src=${vhdx},dst=/disk,options=rbind:rw`, '--mount', `type=bind,src=${join(work, 'in')},dst=/in,options=rbind:ro`,
    ]);
    ok(w, 'ctr run with a rw virtual disk');
    assert.equal(w.stdout, `${md5(payload)}  /disk/payload.bin\n`);
    assert.match(ctd.log().slice(logFrom), /HCS emulator: modified[^\n]*resourcePath=VirtualMachine\/Devices\/Scsi\/[^/\s]+\/Attachments\/\d+/, 'attached over SCSI');
    const r = await ctd.run('t-vol-disk', ['/bin/sh', '-c', 'md5sum /disk/payload.bin; echo x > /disk/new 2>/dev/null || echo ro-refused'],
      ['--mount', `type=virtual-disk,src=${vhdx},dst=/disk,options=rbind:ro`]);
    ok(r, 'ctr run with the disk read-only');
    assert.equal(r.stdout, `${md5(payload)}  /disk/payload.bin\nro-refused\n`);
    const loops = execFileSync('losetup', ['--list', '--noheadings', '--output', 'BACK-FILE'], { encoding: 'utf8' });
    assert.deepEqual(loops.split('\n').filter((l) => l.includes(work)), [], 'no loop device left on the disk');
    // physical-disk: a host block device (here a loop device with ext4) passed through.
    const raw = join(work, 'raw.img');
    execFileSync('truncate', ['-s', '32M', raw]);
    execFileSync('mkfs.ext4', ['-q', '-F', raw]);
    const dev = execFileSync('losetup', ['--find', '--show', raw], { encoding: 'utf8' }).trim();
    try {
      const p = await ctd.run('t-vol-disk', ['/bin/sh', '-c', 'cp /in/payload.bin /pd/p.bin && md5sum /pd/p.bin'], [
        '--mount', `type=physical-disk,src=${dev},dst=/pd,options=rbind:rw`, '--mount', `type=bind,src=${join(work, 'in')},dst=/in,options=rbind:ro`,
      ]);
      ok(p, 'ctr run with a physical disk');
      assert.equal(p.stdout, `${md5(payload)}  /pd/p.bin\n`);
      assert.match(ctd.log().slice(logFrom), /HCS emulator: modified[^\n]*resourcePath=VirtualMachine\/Devices\/Scsi\/[^/\s]+\/Attachments\/\d+/);
    } finally {
      execFileSync('losetup', ['-d', dev]);
    }
    assert.equal(md5(execFileSync('debugfs', ['-R', 'cat /p.bin', raw], { stdio: ['ignore', 'pipe', 'ignore'] })), md5(payload), 'the bytes are on the host disk');
    const bad = await ctd.run('t-vol-bad', ['/bin/true'], ['--mount', `type=virtual-disk,src=${work},dst=/disk,options=rbind:rw`]);
    assert.match(bad.stderr, /must be a disk image file/);
    await ctd.ctr(['container', 'rm', 't-vol-bad']);
    assert.equal(existsSync(vhdx), true);
    rmSync(work, { recursive: true });
  });
});
