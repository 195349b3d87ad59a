import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ttrpc } from '../../src/proto/index.js';
import { RequestDecoder, type DecodedRequest } from '../../src/ttrpc/request-decoder.js';
import { hex, toHex } from './wire.js';

// Reference §1.10 Connect request data (checked against containerd/ttrpc 1.1.1): service, method, payload
// ConnectRequest{id: "t1"}, metadata containerd-namespace-ttrpc=default.
const CONNECT_DATA =
  '0a17636f6e7461696e6572642e7461736b2e76322e5461736b1207436f6e6e6563741a040a0274312a250a1a636f6e7461696e6572642d6e616d6573706163652d7474727063120764656661756c74';

/** What the generated decoder gives, in DecodedRequest's terms (the reference the fast path must equal). */
function generated(data: Uint8Array): unknown {
  const r = ttrpc.Request.decode(data);
  const t = r.timeout_nano;
  return {
    service: r.service ?? '',
    method: r.method ?? '',
    payload: toHex(r.payload ?? new Uint8Array(0)),
    timeoutNano: typeof t === 'number' ? t : 0,
    metadata: (r.metadata ?? []).map((kv) => ({ key: kv.key ?? '', value: kv.value ?? '' })),
  };
}

const plain = (d: DecodedRequest): unknown => ({
  service: d.service,
  method: d.method,
  payload: toHex(d.payload),
  timeoutNano: d.timeoutNano,
  metadata: (d.metadata ?? []).map((kv) => ({ key: kv.key ?? '', value: kv.value ?? '' })),
});

/** Counts the calls that reach the generated decoder (the slow path). */
let slowCalls = 0;
const realDecode = ttrpc.Request.decode;
beforeEach(() => {
  slowCalls = 0;
  ttrpc.Request.decode = ((...args: Parameters<typeof realDecode>) => {
    slowCalls++;
    return realDecode(...args);
  }) as typeof realDecode;
});
afterEach(() => {
  ttrpc.Request.decode = realDecode;
});

const enc = (r: ttrpc.Request.$Properties): Uint8Array => ttrpc.Request.encode(r).finish();

describe('RequestDecoder', () => {
  it('reads the reference Connect request on the fast path, as the generated decoder does', () => {
    const d = new RequestDecoder();
    const got = d.decode(hex(CONNECT_DATA));
    assert.equal(slowCalls, 0);
    assert.deepEqual(plain(got), {
      service: 'containerd.task.v2.Task',
      method: 'Connect',
      payload: '0a027431',
      timeoutNano: 0,
      metadata: [{ key: 'containerd-namespace-ttrpc', value: 'default' }],
    });
    assert.deepEqual(plain(got), generated(hex(CONNECT_DATA)));
  });

  // Everything a Go or Node client sends: the fast path must give exactly the generated decoder's values.
  const fastVectors: Array<[string, Uint8Array]> = [
    ['empty message', new Uint8Array(0)],
    ['service and method only', enc({ service: 's', method: 'm' })],
    ['empty payload field (present, 0 bytes)', hex('0a01731201 6d 1a00')],
    ['timeout 1 s', enc({ service: 's', method: 'm', timeout_nano: 1e9 })],
    ['timeout 2^49 - 1 ns (7 varint bytes)', enc({ service: 's', method: 'm', timeout_nano: 2 ** 49 - 1 })],
    ['timeout in a non-minimal varint', hex('0a0173 2081808000')],
    ['fields in another order', hex('2a050a016b1200 1a020801 1201 6d 0a0173 2005')],
    ['repeated metadata keys, mixed case, empty key and value', enc({ service: 'a.B', method: 'C', metadata: [{ key: 'X-Trace', value: '1' }, { key: 'x-trace', value: '2' }, {}, { key: 'k' }] })],
    ['payload of 300 bytes (2-byte length)', enc({ service: 's', method: 'm', payload: new Uint8Array(300).fill(7) })],
    ['payload of 20000 bytes (3-byte length)', enc({ service: 's', method: 'm', payload: new Uint8Array(20000).fill(9) })],
    ['a 100-byte ASCII service (not cached)', enc({ service: 'x'.repeat(100), method: 'm' })],
  ];
  for (const [name, data] of fastVectors) {
    it(`fast path: ${name}`, () => {
      const got = new RequestDecoder().decode(data);
      assert.equal(slowCalls, 0, 'took the generated decoder');
      assert.deepEqual(plain(got), generated(data));
    });
  }

  // Shapes the fast path leaves to the generated decoder: same values (or the same error) as before.
  const slowVectors: Array<[string, Uint8Array]> = [
    ['non-ASCII service', enc({ service: 'dienst-ü', method: 'm' })],
    ['non-ASCII metadata value', enc({ service: 's', method: 'm', metadata: [{ key: 'k', value: 'é' }] })],
    ['unknown field 6', hex('0a0173 1201 6d 3001')],
    ['unknown field 99 (2-byte tag)', hex('0a0173 98 06 01')],
    ['service twice (last wins)', hex('0a0161 0a0162 12016d')],
    ['payload twice', hex('1a0101 1a0102')],
    ['timeout twice', hex('2001 2002')],
    ['service with varint wire type', hex('0801 12016d')],
    ['non-minimal length varint', hex('0a8100 73 12016d')],
    ['timeout of 2^53 (8 varint bytes)', enc({ service: 's', method: 'm', timeout_nano: 2 ** 53 })],
    ['negative timeout (10 varint bytes)', enc({ service: 's', method: 'm', timeout_nano: -1 })],
    ['metadata with an unknown field', hex('0a0173 2a05 0a016b 1800')],
    ['metadata key twice', hex('2a06 0a0161 0a0162')],
  ];
  for (const [name, data] of slowVectors) {
    it(`generated decoder: ${name}`, () => {
      const got = new RequestDecoder().decode(data);
      assert.equal(slowCalls, 1, 'should take the generated decoder');
      slowCalls = 0;
      assert.deepEqual(plain(got), generated(data));
    });
  }

  const badVectors: Array<[string, Uint8Array]> = [
    ['service length past the end', hex('0a0573')],
    ['truncated timeout varint', hex('0a0173 2080')],
    ['truncated tag', hex('0a0173 98')],
    ['metadata running past the end', hex('2a05 0a01')],
    ['invalid UTF-8 in method', hex('0a0173 1202 c328')],
  ];
  for (const [name, data] of badVectors) {
    it(`malformed: ${name} fails with the generated decoder's error`, () => {
      const want = (() => {
        try {
          realDecode(data);
        } catch (err) {
          return err as Error;
        }
        assert.fail('the generated decoder accepted it');
      })();
      assert.throws(() => new RequestDecoder().decode(data), (err: Error) => err.constructor === want.constructor && err.message === want.message);
    });
  }

  it('returns the same string objects for repeated names and keeps at most 8 cached strings of ≤ 64 bytes', () => {
    const d = new RequestDecoder();
    const a = d.decode(hex(CONNECT_DATA));
    const b = d.decode(hex(CONNECT_DATA));
    assert.equal(a.service, b.service);
    assert.equal(a.method, b.method);
    const cache = (d as unknown as { strings: Array<{ bytes: Uint8Array; text: string }> }).strings;
    for (let i = 0; i < 20; i++) d.decode(enc({ service: `svc-${i}`, method: 'x'.repeat(65 + i) }));
    assert.equal(cache.length, 8);
    assert.ok(cache.every((s) => s.bytes.length <= 64 && s.text === Buffer.from(s.bytes).toString('latin1')));
  });

  it('keeps no view of the request in its cache (the call owns those bytes)', () => {
    const d = new RequestDecoder();
    const data = Buffer.from(hex(CONNECT_DATA));
    const got = d.decode(data);
    const cache = (d as unknown as { strings: Array<{ bytes: Uint8Array }> }).strings;
    assert.ok(cache.length > 0 && cache.every((s) => s.bytes.buffer !== data.buffer));
    assert.equal(got.payload.buffer, data.buffer, 'the payload is a view of the frame, as the generated decoder gives');
    data.fill(0);
    assert.equal(d.decode(hex(CONNECT_DATA)).service, 'containerd.task.v2.Task');
  });
});
