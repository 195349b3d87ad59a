import assert from 'node:assert/strict';
import { Duplex, PassThrough, Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { captureLogger } from '../fakes/index.js';
import { GuestLogDecoder, MAX_GUEST_LOG_ENTRY, MAX_GUEST_LOG_TAIL, parseGuestLog } from '../../src/log/index.js';

const capture = captureLogger;

/** Lets the piped stream deliver its data and end events. */
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

const LINE1 = '{"time":"2024-01-02T03:04:05.123456789Z","level":"info","msg":"hello","pid":42}\n';
const LINE2 = '{"level":"debug","msg":"world","ratio":2.0,"nested":{"a":"}"}}\n';

describe('GuestLogDecoder', () => {
  it('decodes consecutive objects with time, level, msg and fields', () => {
    const d = new GuestLogDecoder();
    const out = d.push(LINE1 + LINE2);
    assert.deepEqual(out, [
      { level: 'info', msg: 'hello', time: '2024-01-02T03:04:05.123456789Z', fields: { pid: 42 } },
      { level: 'debug', msg: 'world', time: undefined, fields: { ratio: 2, nested: { a: '}' } } },
    ]);
    assert.deepEqual(d.end(), { raw: '', truncated: false });
  });

  it('gives the same result for every chunking, including inside multi-byte characters', () => {
    const text = Buffer.from(`${LINE1}{"msg":"héllo ☃ \\"quoted\\" {brace}"}${LINE2}`);
    const whole = new GuestLogDecoder().push(text);
    assert.equal(whole.length, 3);
    assert.equal(whole[1]?.msg, 'héllo ☃ "quoted" {brace}');
    for (const size of [1, 2, 3, 7, 64]) {
      const d = new GuestLogDecoder();
      const got = [];
      for (let i = 0; i < text.length; i += size) got.push(...d.push(text.subarray(i, i + size)));
      assert.deepEqual(got, whole, `chunk size ${size}`);
      assert.equal(d.end().raw, '');
    }
  });

  it('clamps panic and fatal to error, maps warning, defaults to info', () => {
    const d = new GuestLogDecoder();
    const levels = d.push('{"level":"panic"}{"level":"fatal"}{"level":"warning"}{"msg":"x"}{"level":"nonsense"}').map((e) => e.level);
    assert.deepEqual(levels, ['error', 'error', 'warn', 'info', 'info']);
  });

  it('uses message/Message of ETW entries as msg', () => {
    const d = new GuestLogDecoder();
    const [a, b, c] = d.push('{"Source":"ETW","message":"m1"}{"Source":"ETW","Message":"m2","msg":"ignored"}{"message":"kept"}');
    assert.deepEqual([a?.msg, a?.fields], ['m1', { Source: 'ETW' }]);
    assert.deepEqual([b?.msg, b?.fields], ['m2', { Source: 'ETW' }]);
    assert.deepEqual([c?.msg, c?.fields], ['', { 'fields.message': 'kept' }]);
  });

  it('switches to raw mode at garbage and keeps everything after it', () => {
    const d = new GuestLogDecoder();
    const out = d.push(`${LINE1}panic: runtime error\n\ngoroutine 1 [running]:\n`);
    assert.equal(out.length, 1);
    assert.equal(d.failed, true);
    assert.deepEqual(d.push(LINE2), []);
    assert.deepEqual(d.end(), { raw: `panic: runtime error\n\ngoroutine 1 [running]:\n${LINE2}`.trim(), truncated: false });
  });

  it('treats a malformed object as garbage from its start', () => {
    const d = new GuestLogDecoder();
    assert.equal(d.push('{"msg": oops}\n{"msg":"after"}').length, 0);
    assert.equal(d.end().raw, '{"msg": oops}\n{"msg":"after"}');
  });

  it('reports a partial object at the end as raw text', () => {
    const d = new GuestLogDecoder();
    d.push('{"msg":"cut');
    assert.equal(d.end().raw, '{"msg":"cut');
  });

  it('gives up on an object bigger than the limit without waiting for its end', () => {
    const d = new GuestLogDecoder();
    d.push(`{"msg":"${'x'.repeat(MAX_GUEST_LOG_ENTRY)}`);
    assert.equal(d.failed, true);
    const { raw, truncated } = d.end();
    assert.equal(truncated, true, 'the tail keeps at most MAX_GUEST_LOG_TAIL characters');
    assert.equal(raw.length, MAX_GUEST_LOG_TAIL);
    assert.ok(raw.startsWith('{"msg":"xxx'));
  });
});

describe('parseGuestLog', () => {
  it('logs entries with uvm-id and vm.time, then the garbage once as "gcs terminated"', async () => {
    const { logger, lines } = capture();
    const stream = Readable.from([Buffer.from(LINE1.slice(0, 10)), Buffer.from(LINE1.slice(10) + 'not json at all\n'), Buffer.from(LINE2)]);
    await parseGuestLog(stream, logger, 'vm1');
    await settle();
    assert.equal(lines.length, 2);
    assert.deepEqual(
      { level: lines[0]?.['level'], message: lines[0]?.['message'], pid: lines[0]?.['pid'], id: lines[0]?.['uvm-id'], t: lines[0]?.['vm.time'] },
      { level: 'info', message: 'hello', pid: 42, id: 'vm1', t: '2024-01-02T03:04:05.123456789Z' },
    );
    assert.equal(lines[1]?.['level'], 'error');
    assert.equal(lines[1]?.['message'], 'gcs terminated');
    assert.equal(lines[1]?.['stderr'], `not json at all\n${LINE2}`.trim());
    assert.equal(lines[1]?.['uvm-id'], 'vm1');
  });

  it('logs nothing extra on a clean end', async () => {
    const { logger, lines } = capture();
    await parseGuestLog(Readable.from([LINE1, '\n\n', LINE2]), logger, 'vm1');
    await settle();
    assert.deepEqual(lines.map((l) => l['message']), ['hello', 'world']);
    assert.equal(lines[1]?.['ratio'], 2);
  });

  it('destroys a half-open connection once it has ended, without an error (no AbortError, whose stack Node would format)', async () => {
    const { logger, lines } = capture();
    const conn = new Duplex({ allowHalfOpen: true, read() {}, write(_c, _e, cb) { cb(); } });
    const errors: unknown[] = [];
    conn.on('error', (e) => errors.push(e));
    const done = parseGuestLog(conn, logger, 'vm1');
    conn.push(LINE1);
    conn.push(null); // the guest's end; our writable side is still open
    await done;
    await settle();
    assert.deepEqual(lines.map((l) => l['message']), ['hello']);
    assert.equal(conn.destroyed, true, 'the connection is released');
    assert.deepEqual(errors, [], 'destroyed without an error');
  });

  it('a connection reset is not an error', async () => {
    const { logger, lines } = capture();
    const s = new PassThrough();
    const done = parseGuestLog(s, logger, 'vm1');
    s.write(LINE1);
    setImmediate(() => s.destroy(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })));
    await done;
    await settle();
    assert.deepEqual(lines.map((l) => l['message']), ['hello']);
  });

  it('other read errors are logged as "gcs log read"', async () => {
    const { logger, lines } = capture();
    const s = new PassThrough();
    const done = parseGuestLog(s, logger, 'vm1');
    setImmediate(() => s.destroy(Object.assign(new Error('boom'), { code: 'EIO' })));
    await done;
    await settle();
    assert.deepEqual(lines.map((l) => [l['level'], l['message']]), [['error', 'gcs log read']]);
  });
});
