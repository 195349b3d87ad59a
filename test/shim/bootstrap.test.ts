/**
 * The `start` bootstrap (src/shim/bootstrap.ts): what containerd writes to stdin, per version, and the reply.
 * Inputs are built here byte by byte from the wire facts (containerd api v1.12.0 bootstrap.proto, as linked by
 * containerd v2.4.2), not with the generated codec, so a wrong field number in protos/ fails these tests.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseStartInput, SANDBOX_TASK_API_VERSION, startReply, TASK_API_VERSION, taskApiVersionFor } from '../../src/shim/bootstrap.js';
import { containerd } from '../../src/proto/index.js';
import { startLogLevel } from '../../src/shim/log-level.js';
import { bootstrapParamsBytes, anyBytes, runhcsOptionsBytes } from './support/bootstrap-bytes.js';

const RUNHCS = 'containerd.runhcs.v1.Options';

describe('start bootstrap input', () => {
  it('empty stdin (containerd 1.6–2.2 without options): no params, no options', () => {
    assert.deepEqual(parseStartInput(new Uint8Array(), 't1', 'default'), {});
  });

  it('containerd 2.3+ BootstrapParams: version, level, socket_dir, ttrpc address and the options extension', () => {
    const opts = runhcsOptionsBytes({ debug: true, logLevel: 'trace' });
    const input = bootstrapParamsBytes({
      id: 't1', namespace: 'default', logLevel: -4, version: '2.4.2', socketDir: '/run/x/s', ttrpcAddress: '/run/x/c.sock.ttrpc',
      extensions: [{ typeUrl: RUNHCS, value: opts }],
    });
    const got = parseStartInput(input, 't1', 'default');
    assert.deepEqual(got.params, { containerdVersion: '2.4.2', logLevel: 'debug', socketDir: '/run/x/s', ttrpcAddress: '/run/x/c.sock.ttrpc' });
    assert.equal(got.options?.typeUrl, RUNHCS);
    assert.deepEqual(Buffer.from(got.options?.value ?? []), Buffer.from(opts));
  });

  it('each containerd log level maps to ours (TRACE -8, DEBUG -4, INFO 0, WARN 4, ERROR 8, FATAL 10, PANIC 12)', () => {
    const want: [number, string][] = [[-8, 'trace'], [-4, 'debug'], [0, 'info'], [4, 'warn'], [8, 'error'], [10, 'error'], [12, 'error'], [99, 'info']];
    for (const [level, name] of want) {
      const got = parseStartInput(bootstrapParamsBytes({ id: 'a', namespace: 'n', logLevel: level }), 'a', 'n');
      assert.equal(got.params?.logLevel, name, `level ${level}`);
      assert.equal(got.params?.socketDir, undefined);
      assert.equal(got.options, undefined);
    }
  });

  it('a legacy options Any (containerd 1.6–2.2) is the options, not params', () => {
    const opts = runhcsOptionsBytes({ debug: true });
    const got = parseStartInput(anyBytes(RUNHCS, opts), 't1', 'default');
    assert.equal(got.params, undefined);
    assert.equal(got.options?.typeUrl, RUNHCS);
    assert.deepEqual(Buffer.from(got.options?.value ?? []), Buffer.from(opts));
  });

  it('an Any whose type URL equals the id is not taken for params unless its value is the namespace too', () => {
    // fields 1 and 2 are strings in both messages: an Any decodes as BootstrapParams.
    const any = anyBytes('t1', new TextEncoder().encode('other'));
    assert.equal(parseStartInput(any, 't1', 'default').params, undefined);
    assert.equal(parseStartInput(any, 't1', 'default').options?.typeUrl, 't1');
  });

  it('BootstrapParams for another id or namespace are not trusted', () => {
    const input = bootstrapParamsBytes({ id: 'other', namespace: 'default', logLevel: -4 });
    assert.equal(parseStartInput(input, 't1', 'default').params, undefined);
  });

  it('bytes that are no protobuf at all give nothing (Create reports bad options)', () => {
    assert.deepEqual(parseStartInput(new Uint8Array([0x0a, 0xff, 0xff, 0xff]), 't1', 'default'), {});
    assert.deepEqual(parseStartInput(new TextEncoder().encode('{"json": true}'), 't1', 'default'), {});
  });
});

describe('start bootstrap reply', () => {
  it('without params (containerd 1.6–2.2): the plain address', () => {
    assert.equal(startReply('unix:///run/containerd/s/ab', {}), 'unix:///run/containerd/s/ab');
  });

  it('with params (containerd 2.3+): a protobuf BootstrapResult {version, address, protocol ttrpc}', () => {
    const out = startReply('unix:///s/ab', { params: { containerdVersion: '2.4.2', logLevel: 'info' } });
    assert.ok(out instanceof Uint8Array);
    // version=1 varint, address=2, protocol=3, by hand:
    const want = Buffer.concat([
      Buffer.from([0x08, TASK_API_VERSION]),
      Buffer.from([0x12, 12]), Buffer.from('unix:///s/ab'),
      Buffer.from([0x1a, 5]), Buffer.from('ttrpc'),
    ]);
    assert.deepEqual(Buffer.from(out), want);
    const r = containerd.runtime.bootstrap.v1.BootstrapResult.decode(out);
    assert.equal(r.address, 'unix:///s/ab');
  });

  it('version 3 when asked (a Sandbox API sandbox: no spec in its bundle), 2 for a task\'s bundle', () => {
    const out = startReply('unix:///s/ab', { params: { containerdVersion: '2.4.2', logLevel: 'info' } }, SANDBOX_TASK_API_VERSION);
    assert.ok(out instanceof Uint8Array);
    assert.deepEqual([...out.subarray(0, 2)], [0x08, 3]);
    assert.equal(startReply('unix:///s/ab', {}, SANDBOX_TASK_API_VERSION), 'unix:///s/ab', 'containerd 1.6–2.2: the plain address');
    const dir = mkdtempSync(join(tmpdir(), 'tav-'));
    try {
      assert.equal(taskApiVersionFor(dir), SANDBOX_TASK_API_VERSION);
      writeFileSync(join(dir, 'config.json'), '{}');
      assert.equal(taskApiVersionFor(dir), TASK_API_VERSION);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the plain address is not a valid protobuf (containerd 2.4 tries protobuf first, then falls back)', () => {
    assert.throws(() => containerd.runtime.bootstrap.v1.BootstrapResult.decode(new TextEncoder().encode('unix:///run/containerd/s/ab')));
  });
});

describe('the daemon log level from each kind of start input (log-level.ts rule)', () => {
  const level = (input: Uint8Array, debug: boolean): string => {
    const l = startLogLevel(parseStartInput(input, 't1', 'default'), debug);
    return `${l.level}/${l.source}`;
  };
  const legacy = (o: { debug?: boolean; logLevel?: string }): Uint8Array => anyBytes(RUNHCS, runhcsOptionsBytes(o));
  const params = (logLevel: number, o?: { debug?: boolean; logLevel?: string }): Uint8Array =>
    bootstrapParamsBytes({ id: 't1', namespace: 'default', logLevel, ...(o ? { extensions: [{ typeUrl: RUNHCS, value: runhcsOptionsBytes(o) }] } : {}) });

  it('containerd 1.6–2.2 without options (empty stdin): -debug or info', () => {
    assert.equal(level(new Uint8Array(), true), 'debug/debug');
    assert.equal(level(new Uint8Array(), false), 'info/default');
  });

  it('containerd 1.6–2.2 with options: log_level beats -debug and debug; debug alone raises', () => {
    assert.equal(level(legacy({ logLevel: 'info', debug: true }), true), 'info/log_level');
    assert.equal(level(legacy({ logLevel: 'trace' }), false), 'trace/log_level');
    assert.equal(level(legacy({ debug: true }), false), 'debug/debug');
    assert.equal(level(legacy({}), true), 'debug/debug');
  });

  it('containerd 2.3+: log_level in the extension beats containerd\'s level, which beats -debug and debug', () => {
    assert.equal(level(params(-4, { logLevel: 'info' }), true), 'info/log_level');
    assert.equal(level(params(0), true), 'info/bootstrap'); // LOG_LEVEL_INFO is 0: not on the wire, still containerd's level
    assert.equal(level(params(0, { debug: true }), true), 'info/bootstrap');
    assert.equal(level(params(-8), false), 'trace/bootstrap');
    assert.equal(level(params(4, { logLevel: 'loud' }), true), 'warn/bootstrap');
  });
});
