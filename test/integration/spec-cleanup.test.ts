/**
 * Spec cleanup before the guest (hcsshim createLCOWSpec), through a real containerd: a spec with host hooks,
 * a Windows section, a host cgroupsPath and resources the guest cannot apply runs (our guest refuses hooks,
 * so a shim that forwarded them would fail the create); `lcow.privileged` drops the seccomp profile.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { CONTAINERDS, NEEDS_ROOT, RUNTIME, usePrivateContainerd, type PrivateContainerd } from './harness.js';

type Json = Record<string, any>;

/** ctr's default spec with our busybox rootfs and `args`. */
async function defaultSpec(ctd: PrivateContainerd, args: string[]): Promise<Json> {
  const r = await ctd.ctr(['oci', 'spec']);
  assert.equal(r.code, 0, r.stderr);
  const spec = JSON.parse(r.stdout) as Json;
  spec.root = { path: ctd.rootfs, readonly: false };
  spec.process.args = args;
  spec.process.terminal = false;
  return spec;
}

async function runSpec(ctd: PrivateContainerd, spec: Json, name: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const path = join(ctd.tmp, `${name}.json`);
  writeFileSync(path, JSON.stringify(spec));
  return ctd.ctr(['run', '--rm', '--runtime', RUNTIME, '--config', path, 'spec-cleanup']);
}

for (const under of CONTAINERDS) describe(`spec cleanup before the guest [${under.label}]`, { skip: NEEDS_ROOT, timeout: 300_000 }, () => {
  const ctd = usePrivateContainerd((c) => c.ctr(['container', 'rm', 'spec-cleanup']), under);

  test('a spec with hooks, a Windows section, a host cgroupsPath and pids/blockIO limits runs', async () => {
    const spec = await defaultSpec(ctd, ['/bin/sh', '-c', 'echo spec-cleanup-ok']);
    spec.hooks = {
      prestart: [{ path: 'C:\\hooks\\prestart.exe' }],
      createRuntime: [{ path: '/no/such/hook' }],
      poststop: [{ path: '/no/such/hook' }],
    };
    spec.windows = { resources: { cpu: { count: 1 } }, network: { endpointList: ['e1'] }, ignoreFlushesDuringBoot: true };
    spec.linux.cgroupsPath = '/kubepods/besteffort/pod-host/spec-cleanup';
    spec.linux.resources = { ...(spec.linux.resources ?? {}), pids: { limit: 1 }, blockIO: { weight: 10 }, cpu: { period: 0, quota: 0 } };
    const r = await runSpec(ctd, spec, 'hooks');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'spec-cleanup-ok');
  });

  test('lcow.privileged=true drops the seccomp profile; without it the profile applies', async () => {
    const spec = await defaultSpec(ctd, ['/bin/sh', '-c', 'mkdir /tmp/seccomp-probe && echo made && rmdir /tmp/seccomp-probe']);
    spec.linux.seccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_AARCH64'],
      syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }],
    };
    const confined = await runSpec(ctd, spec, 'confined');
    assert.notEqual(confined.code, 0, 'the seccomp profile must deny mkdir');
    assert.doesNotMatch(confined.stdout, /made/);
    await ctd.ctr(['container', 'rm', 'spec-cleanup']);
    spec.annotations = { ...(spec.annotations ?? {}), 'io.microsoft.virtualmachine.lcow.privileged': 'true' };
    const privileged = await runSpec(ctd, spec, 'privileged');
    assert.equal(privileged.code, 0, privileged.stderr);
    assert.equal(privileged.stdout.trim(), 'made');
  });
});
