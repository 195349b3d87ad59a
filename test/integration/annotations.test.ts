/**
 * runhcs annotations as containerd relays them (`ctr run --annotation`), through the shim, the emulated
 * utility VM and the guest agent: the GCS command line flags, writable shares denied by
 * fileshares.disablewritable and by its disable-unsafe-operations expansion, and a conflicting expansion;
 * the HvSocket/NUMA/overlay annotations reaching (or refused before) the emulated HCS.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { CONTAINERDS, NEEDS_ROOT, usePrivateContainerd } from './harness.js';

const VM = 'io.microsoft.virtualmachine';

for (const under of CONTAINERDS) describe(`annotations through a real containerd [${under.label}]`, { skip: NEEDS_ROOT, timeout: 300_000 }, () => {
  const ctd = usePrivateContainerd(async (c) => {
    await c.ctr(['container', 'rm', 't-ann-deny', 't-ann-conflict']); // a refused create may leave its record
  }, under);

  test('lcow.timesync.disable and container.processdumplocation reach the GCS command line', async () => {
    const before = ctd.log().length;
    const r = await ctd.run('t-ann-gcs', ['/bin/echo', 'ok'], [
      '--annotation', `${VM}.lcow.timesync.disable=true`, '--annotation', 'io.microsoft.container.processdumplocation=/var/dumps/core.%p',
    ]);
    ctd.assertOk(r, 'ctr run with GCS annotations');
    assert.equal(r.stdout, 'ok\n');
    const line = ctd.log().slice(before).split('\n').find((l) => l.includes('guest agent starting'));
    assert.ok(line, 'the guest logged its start');
    assert.match(line, /disableTimeSync=true/);
    assert.match(line, /coreDumpLocation="\/var\/dumps\/core\.%p"/);
  });

  test('resource-partition-id: a GUID reaches the VM document; a bad one is refused naming the annotation', async () => {
    const id = `${VM}.resource-partition-id`;
    ctd.assertOk(await ctd.run('t-ann-rp', ['/bin/true'], ['--annotation', `${id}=0a1b2c3d-0000-4000-8000-000000000001`]), 'run in a resource partition');
    const bad = await ctd.run('t-ann-deny', ['/bin/true'], ['--annotation', `${id}=not-a-guid`]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /resource-partition-id: 'not-a-guid' is not a GUID/);
    await ctd.ctr(['container', 'rm', 't-ann-deny']);
  });

  test('fileshares.disablewritable: a writable bind mount is refused, a read-only one works', async () => {
    const dir = mkdtempSync(join(ctd.tmp, 'vol-'));
    try {
      writeFileSync(join(dir, 'f'), 'volume bytes\n');
      const deny = ['--annotation', `${VM}.fileshares.disablewritable=true`];
      const rw = await ctd.run('t-ann-deny', ['/bin/cat', '/data/f'], [...deny, '--mount', `type=bind,src=${dir},dst=/data,options=rbind:rw`]);
      assert.notEqual(rw.code, 0);
      assert.match(rw.stderr, /adding writable shares is denied/);
      await ctd.ctr(['container', 'rm', 't-ann-deny']);
      const ro = await ctd.run('t-ann-ro', ['/bin/cat', '/data/f'], [...deny, '--mount', `type=bind,src=${dir},dst=/data,options=rbind:ro`]);
      ctd.assertOk(ro, 'read-only volume');
      assert.equal(ro.stdout, 'volume bytes\n');
      // disable-unsafe-operations stands for disablewritable (among others)
      const unsafe = await ctd.run('t-ann-deny', ['/bin/true'], ['--annotation', 'io.microsoft.disable-unsafe-operations=true', '--mount', `type=bind,src=${dir},dst=/data,options=rbind:rw`]);
      assert.match(unsafe.stderr, /adding writable shares is denied/);
      await ctd.ctr(['container', 'rm', 't-ann-deny']);
      const conflict = await ctd.run('t-ann-conflict', ['/bin/true'], [
        '--annotation', 'io.microsoft.disable-unsafe-operations=true', '--annotation', `${VM}.fileshares.disablewritable=false`,
      ]);
      assert.match(conflict.stderr, /annotation expansion conflict/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  test('NUMA, hv-socket service table, extra vsock ports, overlays, nomultimapping, dump dir, scratch encryption', async () => {
    const svc = `${VM}.hv-socket.service-table.abcdef01-2345-6789-abcd-ef0123456789`;
    const ok = await ctd.run('t-ann-vm', ['/bin/echo', 'ok'], [
      '--annotation', `${svc}={"AllowWildcardBinds":true,"BindSecurityDescriptor":"D:P(A;;FA;;;WD)"}`,
      '--annotation', `${VM}.lcow.extra-vsock-ports=8000,8001`,
      '--annotation', `${VM}.lcow.writable-overlay-directories=true`,
      '--annotation', `${VM}.lcow.vpmem.nomultimapping=true`,
      '--annotation', `${VM}.dump-directory-path=C:\\dumps`,
      '--annotation', `${VM}.storage.scratch.encrypted=false`,
    ]);
    ctd.assertOk(ok, 'ctr run with the service table and extra vsock ports');
    assert.equal(ok.stdout, 'ok\n');
    const refused = async (args: string[], re: RegExp): Promise<void> => {
      const r = await ctd.run('t-ann-deny', ['/bin/true'], args);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, re);
      await ctd.ctr(['container', 'rm', 't-ann-deny']);
    };
    // the emulated HCS checks the document's descriptors as HCS does
    await refused(['--annotation', `${svc}={"BindSecurityDescriptor":"everyone"}`], /BindSecurityDescriptor "everyone" is not an SDDL DACL/);
    await refused(['--annotation', `${VM}.lcow.extra-vsock-ports=8000;8001`], /extra-vsock-ports: '8000;8001' is not a comma-separated list/);
    await refused(['--annotation', `${svc}={"AllowWildcardBind":true}`], /unknown HvSocketServiceConfig field "AllowWildcardBind"/);
    await refused(['--annotation', `${VM}.storage.scratch.encrypted=true`], /scratch encryption is not implemented/);
    // the emulator is Windows Server 2022 (build 20348): no vNUMA, as hcsshim refuses it there
    await refused([
      '--annotation', `${VM}.computetopology.memory.allowovercommit=false`,
      '--annotation', `${VM}.computetopology.numa.mapped-physical-nodes=0`,
      '--annotation', `${VM}.computetopology.numa.count-of-processors=1`,
      '--annotation', `${VM}.computetopology.numa.count-of-memory-blocks=1024`,
    ], /vNUMA: not supported on Windows build 20348/);
  });
});
