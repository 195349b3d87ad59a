import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ComputeSystemNotificationV1,
  FrameDecoder,
  GcsProtocolError,
  MaxMsgSize,
  MsgTypeNotify,
  MsgTypeRequest,
  MsgTypeResponse,
  NotifyContainer,
  RPCCreate,
  RPCDeleteContainerState,
  RPCExecuteProcess,
  RPCLifecycleNotification,
  RPCModifyServiceSettings,
  RPCNegotiateProtocol,
  RPCWaitForProcess,
  categoryOf,
  encodeFrame,
  fromJsonString,
  hresultFromWire,
  hresultToWire,
  messageIdOf,
  messageKind,
  msgTypeString,
  parseJsonBody,
  requestType,
  responseType,
  rpcName,
  rpcProcOf,
  toJsonString,
  versionOf,
  type Frame,
} from '../../src/gcs/protocol/index.js';
import { ErrorCode, HResult } from '../../src/errdefs/index.js';

// Hand-computed vectors. NegotiateProtocol request as the host sends it (id 0, the first id):
//   Type 0x10100B01 -> 01 0b 10 10; Size 16 + 108 = 0x7c -> 7c 00 00 00; ID 0 -> 8 x 00.
const NEG_REQ_BODY =
  '{"ContainerId":"","ActivityId":"00000000-0000-0000-0000-000000000000","MinimumVersion":4,"MaximumVersion":4}';
const NEG_REQ_HDR = '010b10107c0000000000000000000000';
// The Linux GCS's answer: Type 0x20100B01 -> 01 0b 10 20; Size 16 + 274 = 0x122 -> 22 01 00 00; ID 0.
const NEG_RESP_BODY =
  '{"Result":0,"Version":4,"Capabilities":{"SupportedSchemaVersions":[{"Major":2,"Minor":1}],' +
  '"RuntimeOsType":"Linux","GuestDefinedCapabilities":{"NamespaceAddRequestSupported":true,' +
  '"SignalProcessSupported":true,"DumpStacksSupported":true,"DeleteContainerStateSupported":true}}}';
const NEG_RESP_HDR = '010b1020220100000000000000000000';

test('RPC constants match the hcsshim values', () => {
  assert.equal(RPCCreate, 0x00100101);
  assert.equal(RPCExecuteProcess, 0x00100501);
  assert.equal(RPCWaitForProcess, 0x00100601);
  assert.equal(RPCNegotiateProtocol, 0x00100b01);
  assert.equal(RPCDeleteContainerState, 0x00100d01);
  assert.equal(RPCLifecycleNotification, 0x00100f01);
  assert.equal(RPCModifyServiceSettings, 0x00200101);
  assert.equal(NotifyContainer, 0x101);
  assert.equal(ComputeSystemNotificationV1, 0x30100101);
  assert.equal(MsgTypeRequest | 0, 0x10000000);
  assert.equal(MsgTypeResponse, 0x20000000);
  assert.equal(MsgTypeNotify, 0x30000000);
});

test('message-type helpers split and build types', () => {
  const req = requestType(RPCNegotiateProtocol);
  assert.equal(req, 0x10100b01);
  assert.equal(responseType(req), 0x20100b01);
  assert.equal(responseType(RPCNegotiateProtocol), 0x20100b01);
  assert.equal(rpcProcOf(0x20100b01), RPCNegotiateProtocol);
  assert.equal(messageKind(req), 'request');
  assert.equal(messageKind(0x20100b01), 'response');
  assert.equal(messageKind(ComputeSystemNotificationV1), 'notification');
  assert.equal(messageKind(0x40000000), 'unknown');
  assert.equal(categoryOf(req), 0x00100000);
  assert.equal(messageIdOf(req), 11);
  assert.equal(versionOf(req), 1);
  assert.equal(rpcName(RPCExecuteProcess), 'ExecuteProcess');
  assert.equal(rpcName(0x00100001), '0x100001');
  assert.equal(msgTypeString(req), 'Request(NegotiateProtocol)');
  assert.equal(msgTypeString(ComputeSystemNotificationV1), 'Notify(Container)');
  assert.equal(msgTypeString(0x30100201), 'Notify(0x30100201)');
});

test('encodes the NegotiateProtocol request to the hand-computed bytes', () => {
  const body = JSON.parse(NEG_REQ_BODY) as unknown;
  const frame = encodeFrame(requestType(RPCNegotiateProtocol), 0, body);
  assert.equal(frame.subarray(0, 16).toString('hex'), NEG_REQ_HDR);
  assert.equal(frame.subarray(16).toString('utf8'), NEG_REQ_BODY);
  assert.equal(frame.length, 0x7c);
});

test('decodes the hand-computed response, fed one byte at a time', () => {
  const bytes = Buffer.concat([Buffer.from(NEG_RESP_HDR, 'hex'), Buffer.from(NEG_RESP_BODY)]);
  const dec = new FrameDecoder();
  const frames: Frame[] = [];
  for (let i = 0; i < bytes.length; i++) {
    frames.push(...dec.decode(bytes.subarray(i, i + 1)));
    if (i < bytes.length - 1) assert.equal(frames.length, 0, `frame emitted early at byte ${i}`);
  }
  assert.equal(frames.length, 1);
  const f = frames[0]!;
  assert.equal(f.type, 0x20100b01);
  assert.equal(f.id, 0);
  const body = parseJsonBody(f.body);
  assert.equal(body['Version'], 4);
  assert.deepEqual((body['Capabilities'] as Record<string, unknown>)['SupportedSchemaVersions'], [{ Major: 2, Minor: 1 }]);
  assert.ok(dec.idle);
});

test('64-bit ids: little-endian, high word honoured, > 2^53 - 1 rejected', () => {
  const f = encodeFrame(requestType(RPCCreate), 0x1_0000_0002, {});
  assert.equal(f.subarray(8, 16).toString('hex'), '0200000001000000');
  assert.equal(new FrameDecoder().decode(f)[0]!.id, 0x1_0000_0002);
  const max = encodeFrame(requestType(RPCCreate), Number.MAX_SAFE_INTEGER, {});
  assert.equal(max.subarray(8, 16).toString('hex'), 'ffffffffffff1f00');
  assert.equal(new FrameDecoder().decode(max)[0]!.id, Number.MAX_SAFE_INTEGER);
  const over = Buffer.from(max);
  over[14] = 0x20;
  assert.throws(() => new FrameDecoder().decode(over), (e: unknown) => e instanceof GcsProtocolError && e.violation === 'id-out-of-range');
  assert.throws(() => encodeFrame(0x10100101, -1, {}), /message id -1/);
  assert.throws(() => encodeFrame(0x10100101, 2 ** 53, {}), /out of range/);
  assert.throws(() => encodeFrame(2 ** 32, 1, {}), /not a u32/);
});

test('many frames in one chunk, split across chunk boundaries, empty bodies', () => {
  const parts = [
    encodeFrame(0x10100101, 1, { ContainerId: 'a' }),
    encodeFrame(0x10100201, 2, Buffer.alloc(0)),
    encodeFrame(ComputeSystemNotificationV1, 0, '{"Type":"GracefulExit"}\n'),
  ];
  const all = Buffer.concat(parts);
  for (const split of [1, 7, 16, 17, 30, all.length - 1]) {
    const dec = new FrameDecoder();
    const got = [...dec.decode(all.subarray(0, split)), ...dec.decode(all.subarray(split))];
    assert.deepEqual(got.map((f) => [f.type, f.id, f.body.length]), [
      [0x10100101, 1, parts[0]!.length - 16],
      [0x10100201, 2, 0],
      [ComputeSystemNotificationV1, 0, parts[2]!.length - 16],
    ]);
    assert.equal(parseJsonBody(got[2]!.body)['Type'], 'GracefulExit'); // trailing newline tolerated
  }
});

test('size limits are checked before allocating and the failure is sticky', () => {
  const hdr = Buffer.alloc(16);
  hdr.writeUInt32LE(0x20100101, 0);
  hdr.writeUInt32LE(0xffffffff, 4); // 4 GiB claimed
  const dec = new FrameDecoder();
  assert.throws(
    () => dec.decode(hdr),
    (e: unknown) => e instanceof GcsProtocolError && e.violation === 'frame-too-large' && e.code === ErrorCode.ResourceExhausted,
  );
  assert.equal(dec.bufferedBytes, 0);
  assert.throws(() => dec.decode(Buffer.from(NEG_RESP_HDR, 'hex')), /exceeds the limit/);

  hdr.writeUInt32LE(15, 4);
  assert.throws(() => new FrameDecoder().decode(hdr), (e: unknown) => e instanceof GcsProtocolError && e.violation === 'frame-too-small');

  // Exactly at the limit is accepted; one over is not.
  const atLimit = encodeFrame(0x20100101, 1, Buffer.alloc(MaxMsgSize - 16, 0x20));
  assert.equal(new FrameDecoder().decode(atLimit).length, 1);
  const small = new FrameDecoder({ maxMessageSize: 100 });
  assert.throws(() => small.decode(encodeFrame(0x20100101, 1, Buffer.alloc(85))), /exceeds the limit of 100/);
  assert.throws(() => new FrameDecoder({ maxMessageSize: 15 }), RangeError);
});

test('bodies: JSON objects only; JSON-in-a-string helpers', () => {
  assert.throws(() => parseJsonBody(Buffer.from('{')), (e: unknown) => e instanceof GcsProtocolError && e.violation === 'invalid-json');
  assert.throws(() => parseJsonBody(Buffer.from('[1]')), /not a JSON object/);
  assert.throws(() => parseJsonBody(Buffer.alloc(0)), /not valid JSON/);
  const inner = { PropertyTypes: ['ProcessList'] };
  const outer = JSON.stringify({ Query: toJsonString(inner) });
  assert.equal(outer, '{"Query":"{\\"PropertyTypes\\":[\\"ProcessList\\"]}"}');
  assert.deepEqual(fromJsonString(JSON.parse(outer).Query, 'Query'), inner);
  assert.equal(fromJsonString(undefined, 'ResultInfo'), undefined);
  assert.equal(fromJsonString('', 'ResultInfo'), undefined);
  assert.throws(() => fromJsonString('{x', 'Properties'), /Properties does not hold valid JSON/);
  assert.throws(() => fromJsonString(5, 'Properties'), /Properties must be a string/);
});

test('HRESULTs: unsigned in memory, signed int32 on the wire', () => {
  assert.equal(HResult.E_FAIL, 0x80004005);
  assert.equal(hresultToWire(HResult.E_FAIL), -2147467259);
  assert.equal(hresultFromWire(-2147467263), HResult.E_NOTIMPL);
  assert.equal(hresultFromWire(-1070137076), 0xc037010c);
  assert.equal(hresultFromWire(0), 0);
  assert.equal(hresultFromWire('x'), HResult.E_FAIL);
});
