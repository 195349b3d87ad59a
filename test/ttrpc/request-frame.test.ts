/** The client's hand-built Request frame and OK-response reader: the bytes and values of the generated code. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ttrpc } from '../../src/proto/index.js';
import { MAX_MESSAGE_LENGTH, MessageType, encodeFrame } from '../../src/ttrpc/index.js';
import { encodeRequestFrame } from '../../src/ttrpc/request-frame.js';
import { okResponsePayload } from '../../src/ttrpc/response-frame.js';
import { hex, toHex } from './wire.js';

// Reference §1.10 Connect request frame (checked against containerd/ttrpc 1.1.1).
const CONNECT_FRAME =
  '0000004f000000010100' +
  '0a17636f6e7461696e6572642e7461736b2e76322e5461736b1207436f6e6e6563741a040a0274312a250a1a636f6e7461696e6572642d6e616d6573706163652d7474727063120764656661756c74';

type Args = [string, string, Uint8Array, number, ttrpc.KeyValue.$Properties[]];
const generatedFrame = (id: number, [service, method, payload, timeoutNano, metadata]: Args): string =>
  toHex(encodeFrame(id, MessageType.Request, 0, ttrpc.Request.encode({ service, method, payload, timeout_nano: timeoutNano, metadata }).finish()));

describe('encodeRequestFrame', () => {
  it('builds the reference Connect request byte for byte', () => {
    const frame = encodeRequestFrame(1, 'containerd.task.v2.Task', 'Connect', hex('0a027431'), 0, [{ key: 'containerd-namespace-ttrpc', value: 'default' }]);
    assert.equal(toHex(frame ?? Buffer.alloc(0)), CONNECT_FRAME);
  });

  const cases: Array<[string, Args]> = [
    ['everything empty', ['', '', new Uint8Array(0), 0, []]],
    ['no payload, no metadata', ['s', 'm', new Uint8Array(0), 0, []]],
    ['timeout 1 ns', ['s', 'm', new Uint8Array([1]), 1, []]],
    ['timeout 1 s', ['s', 'm', new Uint8Array([1]), 1e9, []]],
    ['timeout 2^32 ns', ['s', 'm', new Uint8Array([1]), 2 ** 32, []]],
    ['timeout 2^53 - 1 ns', ['s', 'm', new Uint8Array([1]), Number.MAX_SAFE_INTEGER, []]],
    ['metadata: empty pair, empty key, empty value, repeats', ['s', 'm', new Uint8Array([2]), 5, [{}, { key: '', value: 'v' }, { key: 'k', value: '' }, { key: 'k', value: 'w' }]]],
    ['payload of 128 bytes', ['svc', 'M', new Uint8Array(128).fill(3), 0, []]],
    ['payload of 16384 bytes', ['svc', 'M', new Uint8Array(16384).fill(4), 0, []]],
    ['a 200-byte service name', ['x'.repeat(200), 'M', new Uint8Array(0), 0, [{ key: 'a'.repeat(130), value: 'b'.repeat(127) }]]],
  ];
  for (const [name, args] of cases) {
    it(`same bytes as the generated encoder: ${name}`, () => {
      for (const id of [1, 0xfffffffd]) assert.equal(toHex(encodeRequestFrame(id, ...args) ?? Buffer.alloc(0)), generatedFrame(id, args));
    });
  }

  it('leaves non-ASCII strings, odd timeouts and oversized requests to the generated encoder', () => {
    const p = new Uint8Array(0);
    assert.equal(encodeRequestFrame(1, 'dienst-ü', 'm', p, 0, []), undefined);
    assert.equal(encodeRequestFrame(1, 's', '\ud800', p, 0, []), undefined); // a lone surrogate
    assert.equal(encodeRequestFrame(1, 's', 'm', p, 0, [{ key: 'k', value: '☃' }]), undefined);
    assert.equal(encodeRequestFrame(1, 's', 'm', p, 2 ** 53, []), undefined);
    assert.equal(encodeRequestFrame(1, 's', 'm', p, -1, []), undefined);
    assert.equal(encodeRequestFrame(1, 's', 'm', p, 1.5, []), undefined);
    assert.equal(encodeRequestFrame(1, 's', 'm', new Uint8Array(MAX_MESSAGE_LENGTH), 0, []), undefined);
  });
});

describe('okResponsePayload', () => {
  const generated = (data: Uint8Array): { status: number; payload: string } => {
    const r = ttrpc.Response.decode(data);
    return { status: r.status?.code ?? 0, payload: toHex(r.payload ?? new Uint8Array(0)) };
  };

  const ok: Array<[string, string]> = [
    ['empty (OK, empty reply)', ''],
    ['payload only (ours)', '1206 08d209 10ae2c'],
    ['empty status, then payload (Go ttrpc)', '0a00 1206 08d209 10ae2c'],
    ['empty status only', '0a00'],
    ['payload of 200 bytes (2-byte length)', '12c801' + 'ab'.repeat(200)],
  ];
  for (const [name, h] of ok) {
    it(`reads ${name} as the generated decoder does`, () => {
      const data = hex(h);
      const got = okResponsePayload(data);
      assert.ok(got !== undefined);
      assert.deepEqual({ status: 0, payload: toHex(got) }, generated(data));
    });
  }

  const other: Array<[string, string]> = [
    ['a status with a code', '0a0e080c120a6d6574686f6420466f6f'],
    ['payload before the status', '1201ff 0a00'],
    ['an unknown field', '1201ff 1801'],
    ['a non-minimal length', '128100'],
    ['a truncated payload', '1205ff'],
    ['a truncated length', '1280'],
    ['a length varint over 4 bytes', '1280808080800100'],
    ['the payload twice', '1201aa 1201bb'],
  ];
  for (const [name, h] of other) {
    it(`leaves ${name} to the generated decoder`, () => {
      assert.equal(okResponsePayload(hex(h)), undefined);
    });
  }
});
