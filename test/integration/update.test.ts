/**
 * Update as containerd (1.6 and 2.4) relays it (Tasks.Update over containerd's gRPC API; ctr has no command for it):
 * a standalone task owns its utility VM, so the VM is resized (HCS modify of the memory size, the guest's
 * pod cgroup limit) and its processor limits set, as runhcs; a resources type other than runtime-spec
 * Linux/WindowsResources is refused.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CONTAINERDS, NEEDS_ROOT, usePrivateContainerd, waitForStatus } from './harness.js';
import { grpcUnary, updateTaskRequest } from './containerd-grpc.js';

const LINUX = 'types.containerd.io/opencontainers/runtime-spec/1/LinuxResources';
const UPDATE = '/containerd.services.tasks.v1.Tasks/Update';
const json = (v: unknown): Uint8Array => Buffer.from(JSON.stringify(v));

for (const under of CONTAINERDS) describe(`Update through a real containerd [${under.label}]`, { skip: NEEDS_ROOT, timeout: 300_000 }, () => {
  const ctd = usePrivateContainerd(undefined, under);

  test("a standalone task's Update resizes its utility VM and sets its processor limits", async () => {
    const runner = ctd.run('t-upd', ['/bin/sh', '-c', 'sleep 300']);
    try {
      await waitForStatus(ctd, 't-upd', 'RUNNING');
      const before = ctd.log().length;
      const ok = await grpcUnary(ctd.sock, UPDATE, updateTaskRequest('t-upd', LINUX, json({ memory: { limit: 768 * 1024 * 1024 }, cpu: { quota: 50000, shares: 512 } })));
      assert.equal(ok.status, 0, `${ok.message}\n${ctd.log().slice(-3000)}`);
      const log = ctd.log().slice(before);
      assert.match(log, /HCS emulator: modified.*resourcePath=VirtualMachine\/ComputeTopology\/Memory\/SizeInMB/);
      assert.match(log, /resourceType=PodCgroupMemoryLimit/);
      assert.match(log, /resourcePath=VirtualMachine\/ComputeTopology\/Processor\/Limits/);

      const other = await grpcUnary(ctd.sock, UPDATE, updateTaskRequest('t-upd', 'types.containerd.io/x/Other', json({})));
      assert.equal(other.status, 3, 'InvalidArgument');
      assert.match(other.message, /LinuxResources or WindowsResources/);
      const tiny = await grpcUnary(ctd.sock, UPDATE, updateTaskRequest('t-upd', LINUX, json({ memory: { limit: 1000 } })));
      assert.equal(tiny.status, 3);
      assert.match(tiny.message, /less than 1 MB/);
      assert.equal((await ctd.ctr(['task', 'ls'])).stdout.includes('RUNNING'), true, 'the task lives on');
    } finally {
      await ctd.ctr(['task', 'kill', '-s', 'SIGKILL', 't-upd']);
      await runner;
    }
  });
});
