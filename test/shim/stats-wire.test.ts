/**
 * Stats/Pids encodings (src/shim/stats-wire.ts): the wire chosen once per host, and byte vectors whose tags
 * pin the upstream field numbers (hcsshim stats.proto: Statistics.linux = 2; containerd/cgroups cgroup1
 * Metrics: pids = 2, cpu = 3, memory = 4, MemoryStat.usage = 33; runhcs.proto ProcessDetails: process_id = 7,
 * exec_id = 9), decoded again with protobufjs parsing the .proto files at run time (not the generated code).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import protobuf from 'protobufjs';
import { ErrorCode, type ShimError } from '../../src/errdefs/index.js';
import {
  METRICS_V2_TYPE_URL, PROCESS_DETAILS_TYPE_URL, RUNHCS_PROCESS_DETAILS_TYPE_URL, RUNHCS_STATISTICS_TYPE_URL,
  encodeProcessInfo, encodeStats, statsWireFor,
} from '../../src/shim/stats-wire.js';

const PROTOS = join(process.cwd(), 'protos');
function root(...files: string[]): protobuf.Root {
  const r = new protobuf.Root();
  r.resolvePath = (_origin, target) => join(PROTOS, target);
  return r.loadSync(files, { keepCase: true });
}
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const plain = (m: protobuf.Message, t: protobuf.Type): Record<string, unknown> =>
  t.toObject(m, { longs: String, defaults: false }) as Record<string, unknown>;

describe('statsWireFor: chosen once from the host platform', () => {
  it('windows → runhcs, linux → linux; the test-only override wins; anything else is refused by name', () => {
    assert.equal(statsWireFor('windows', undefined), 'runhcs');
    assert.equal(statsWireFor('linux', undefined), 'linux');
    assert.equal(statsWireFor('linux', ''), 'linux');
    assert.equal(statsWireFor('linux', 'runhcs'), 'runhcs');
    assert.equal(statsWireFor('windows', 'linux'), 'linux');
    assert.throws(() => statsWireFor('linux', 'cgroups'),
      (e: ShimError) => e.code === ErrorCode.InvalidArgument && /LCOW_SHIM_STATS_WIRE.*'cgroups'/.test(e.message));
  });
});

describe('runhcs Statistics', () => {
  const stats = {
    pids: { current: 3, limit: 100 },
    cpu: { usage_usec: 1500, user_usec: 1000, system_usec: 500, nr_periods: 4, nr_throttled: 1, throttled_usec: 2 },
    memory: { usage: 4096, usage_limit: 1n << 40n, anon: 7, file: 9 },
  };

  it('byte vector: Statistics{linux(2): Metrics{pids(2), cpu(3), memory(4)}}', () => {
    const any = encodeStats('runhcs', { pids: { current: 3, limit: 100 } });
    assert.equal(any.type_url, 'containerd.runhcs.stats.v1.Statistics');
    assert.equal(RUNHCS_STATISTICS_TYPE_URL, any.type_url);
    // 12 06 (linux, 6 bytes) 12 04 (pids, 4 bytes) 08 03 (current 3) 10 64 (limit 100)
    assert.equal(hex(any.value), '120612040803' + '1064');
  });

  it('decodes as containerd.runhcs.stats.v1.Statistics with cgroup v1 nanoseconds and exact uint64', () => {
    const r = root('containerd/runhcs/stats.proto');
    const t = r.lookupType('containerd.runhcs.stats.v1.Statistics');
    const any = encodeStats('runhcs', stats);
    const o = plain(t.decode(any.value), t);
    assert.deepEqual(o, {
      linux: {
        pids: { current: '3', limit: '100' },
        cpu: {
          usage: { total: '1500000', kernel: '500000', user: '1000000' },
          throttling: { periods: '4', throttled_periods: '1', throttled_time: '2000' },
        },
        memory: { cache: '9', rss: '7', usage: { usage: '4096', limit: '1099511627776' } },
      },
    });
  });

  it('a uint64 beyond 2^53 (unlimited cgroup v1 limit 2^63 - 4096) is encoded exactly', () => {
    const any = encodeStats('runhcs', { memory: { usage_limit: 9223372036854771712n } });
    // linux(2) { memory(4) { usage(33) { limit(1) = varint 2^63-4096 } } }; tag 33 is the 2-byte varint 8a 02
    assert.equal(hex(any.value), '120f' + '220d' + '8a020a' + '08' + '80e0ffffffffffff7f');
  });

  it('linux wire keeps io.containerd.cgroups.v2.Metrics', () => {
    const any = encodeStats('linux', stats);
    assert.equal(any.type_url, METRICS_V2_TYPE_URL);
    const t = root('containerd/cgroups/metrics-v2.proto').lookupType('io.containerd.cgroups.v2.Metrics');
    const o = plain(t.decode(any.value), t) as { cpu: Record<string, string> };
    assert.equal(o.cpu.usage_usec, '1500');
  });
});

describe('Pids ProcessInfo', () => {
  it('runhcs: every pid carries containerd.runhcs.v1.ProcessDetails{process_id(7), exec_id(9)}', () => {
    const init = encodeProcessInfo('runhcs', { pid: 1 });
    assert.equal(init.info?.type_url, RUNHCS_PROCESS_DETAILS_TYPE_URL);
    assert.equal(RUNHCS_PROCESS_DETAILS_TYPE_URL, 'containerd.runhcs.v1.ProcessDetails');
    assert.equal(hex(init.info?.value ?? new Uint8Array()), '3801');
    const exec = encodeProcessInfo('runhcs', { pid: 20, execId: 'e1' });
    assert.equal(hex(exec.info?.value ?? new Uint8Array()), '3814' + '4a026531');
    const t = root('containerd/runhcs/runhcs.proto').lookupType('containerd.runhcs.v1.ProcessDetails');
    assert.deepEqual(plain(t.decode(exec.info?.value ?? new Uint8Array()), t), { process_id: 20, exec_id: 'e1' });
  });

  it('linux: execs carry containerd.runc.v1.ProcessDetails{exec_id}, others a bare pid', () => {
    assert.deepEqual(encodeProcessInfo('linux', { pid: 1, execId: '' }), { pid: 1 });
    const exec = encodeProcessInfo('linux', { pid: 20, execId: 'e1' });
    assert.equal(exec.info?.type_url, PROCESS_DETAILS_TYPE_URL);
    assert.equal(hex(exec.info?.value ?? new Uint8Array()), '0a026531');
  });
});
