/**
 * Stats/Pids encodings through a real containerd (1.6 and 2.4): the emulator's default (what Linux ctr
 * decodes) is covered by ctr-run.test.ts (`ctr task metrics`/`ps`); here the test-only switch
 * LCOW_SHIM_STATS_WIRE=runhcs (in containerd's environment, which its shims inherit) forces the Windows-host
 * encoding, and containerd's Tasks.Metrics / Tasks.ListPids answers are decoded as containerd's Windows code
 * would: by type URL, then the runhcs fields.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import protobuf from 'protobufjs/minimal.js';
import { containerd, io } from '../../src/proto/index.js';
import { CONTAINERDS, NEEDS_ROOT, PrivateContainerd, waitForStatus } from './harness.js';
import { grpcUnary } from './containerd-grpc.js';

/** A length-delimited field's payloads by field number (the containerd service messages ctr has no types for here). */
function fields(buf: Uint8Array): Map<number, Uint8Array[]> {
  const r = protobuf.Reader.create(buf);
  const out = new Map<number, Uint8Array[]>();
  while (r.pos < r.len) {
    const tag = r.uint32();
    if ((tag & 7) !== 2) { r.skipType(tag & 7); continue; }
    const list = out.get(tag >>> 3) ?? [];
    list.push(r.bytes());
    out.set(tag >>> 3, list);
  }
  return out;
}
const str = (w: (x: protobuf.Writer) => protobuf.Writer): Uint8Array => w(protobuf.Writer.create()).finish();
/** A google.protobuf.Any: type_url (1), value (2). */
function any(b: Uint8Array): { typeUrl: string; value: Uint8Array } {
  const f = fields(b);
  return { typeUrl: Buffer.from(f.get(1)?.[0] ?? []).toString(), value: f.get(2)?.[0] ?? new Uint8Array() };
}

for (const under of CONTAINERDS) describe(`Stats/Pids in runhcs types through a real containerd [${under.label}]`, { skip: NEEDS_ROOT, timeout: 300_000 }, () => {
  const ctd = new PrivateContainerd(under);
  before(() => ctd.start({ LCOW_SHIM_STATS_WIRE: 'runhcs' }));
  after(() => ctd.stop());
  afterEach(async () => assert.deepEqual(await ctd.settled(), []));

  test('Tasks.Metrics carries containerd.runhcs.stats.v1.Statistics{linux}, Tasks.ListPids containerd.runhcs.v1.ProcessDetails', async () => {
    const runner = ctd.run('t-rh', ['/bin/sh', '-c', 'sleep 300']);
    try {
      await waitForStatus(ctd, 't-rh', 'RUNNING');
      // MetricsRequest{filters(1): "id==t-rh"} → MetricsResponse{metrics(1): Metric{timestamp(1), id(2), data(3): Any}}
      const m = await grpcUnary(ctd.sock, '/containerd.services.tasks.v1.Tasks/Metrics', str((w) => w.uint32(0x0a).string('id==t-rh')));
      assert.equal(m.status, 0, `${m.message}\n${ctd.log().slice(-2000)}`);
      const metric = fields(fields(m.body).get(1)?.[0] ?? new Uint8Array());
      assert.equal(Buffer.from(metric.get(2)?.[0] ?? []).toString(), 't-rh');
      const data = any(metric.get(3)?.[0] ?? new Uint8Array());
      assert.equal(data.typeUrl, 'containerd.runhcs.stats.v1.Statistics');
      const stats = containerd.runhcs.stats.v1.Statistics.decode(data.value);
      assert.equal(stats.container, 'linux');
      const linux = stats.linux as io.containerd.cgroups.v1.Metrics;
      assert.ok(Number(linux.pids?.current) >= 1, JSON.stringify(linux.pids));
      assert.ok(Number(linux.memory?.usage?.usage) > 0, JSON.stringify(linux.memory));
      assert.ok(Number(linux.cpu?.usage?.total) % 1000 === 0, 'nanoseconds from the guest');

      const ex = await ctd.ctr(['task', 'exec', '-d', '--exec-id', 'e-rh', 't-rh', '/bin/sleep', '300']);
      assert.equal(ex.code, 0, ex.stderr);
      // ListPidsRequest{container_id(1)} → ListPidsResponse{processes(1): ProcessInfo{pid(1), info(2): Any}}
      const p = await grpcUnary(ctd.sock, '/containerd.services.tasks.v1.Tasks/ListPids', str((w) => w.uint32(0x0a).string('t-rh')));
      assert.equal(p.status, 0, p.message);
      const procs = (fields(p.body).get(1) ?? []).map((b) => containerd.v1.types.ProcessInfo.decode(b));
      assert.ok(procs.length >= 1, 'the init at least');
      const execIds: string[] = [];
      for (const proc of procs) {
        assert.equal(proc.info?.type_url, 'containerd.runhcs.v1.ProcessDetails');
        const d = containerd.runhcs.v1.ProcessDetails.decode(proc.info?.value ?? new Uint8Array());
        assert.equal(d.process_id, proc.pid);
        execIds.push(d.exec_id);
      }
      assert.ok(execIds.includes('e-rh'), `exec ids: ${JSON.stringify(execIds)}`);
    } finally {
      await ctd.ctr(['task', 'kill', '-s', 'SIGKILL', 't-rh']);
      await runner;
    }
  });
});
