// Interop with a real Go ttrpc peer: containerd's own ttrpc server (the events socket; containerd 1.6.20
// links ttrpc v1.1.1). Starts a private containerd (own root, state and sockets under a temp dir).
// Skipped when containerd is not installed or we are not root.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import protobuf from 'protobufjs/minimal.js';
import { ErrorCode, GrpcCode } from '../../src/errdefs/index.js';
import { ttrpc } from '../../src/proto/index.js';
import {
  HEADER_LENGTH,
  MAX_MESSAGE_LENGTH,
  MessageType,
  NAMESPACE_METADATA_KEY,
  TtrpcClient,
  TtrpcStatusError,
  encodeFrame,
} from '../../src/ttrpc/index.js';
import { RawReader, tempDir, toHex } from './wire.js';
import { platformDial } from '../fakes/platform-dial.js';

const CONTAINERD = '/usr/bin/containerd';
const skip = !existsSync(CONTAINERD) || process.getuid?.() !== 0 ? 'needs containerd and root' : false;
const EVENTS = 'containerd.services.events.ttrpc.v1.Events';
const md = { [NAMESPACE_METADATA_KEY]: 'default' };

/** ForwardRequest{Envelope{timestamp?, namespace, topic, Any{TaskExit}}}, hand-encoded (field numbers: reference §2.11, §3.5). */
function forwardRequest(withTimestamp: boolean): Uint8Array {
  const W = (): protobuf.Writer => protobuf.Writer.create();
  const exit = W().uint32(10).string('c1').uint32(18).string('c1').uint32(24).uint32(42).uint32(32).uint32(7).finish();
  const any = W().uint32(10).string('containerd.events.TaskExit').uint32(18).bytes(exit).finish();
  const env = W();
  if (withTimestamp) env.uint32(10).bytes(W().uint32(8).int64(1_700_000_000).uint32(16).int32(5).finish());
  env.uint32(18).string('default').uint32(26).string('/tasks/exit').uint32(34).bytes(any);
  return W().uint32(10).bytes(env.finish()).finish();
}

describe('against containerd 1.6 (Go ttrpc server)', { skip }, () => {
  let daemon: ChildProcess | undefined;
  let cleanup = (): void => undefined;
  let address = '';

  before(async () => {
    const tmp = tempDir();
    cleanup = tmp.cleanup;
    const config = join(tmp.dir, 'config.toml');
    writeFileSync(config, [
      'version = 2',
      `root = "${tmp.dir}/root"`,
      `state = "${tmp.dir}/state"`,
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      '[grpc]',
      `  address = "${tmp.dir}/c.sock"`,
      '',
    ].join('\n'));
    address = `${tmp.dir}/c.sock.ttrpc`;
    const env = { ...process.env };
    delete env.NODE_EXTRA_CA_CERTS;
    daemon = spawn(CONTAINERD, ['--config', config], { stdio: 'ignore', env });
    for (let i = 0; i < 200 && !existsSync(address); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(existsSync(address), 'containerd did not create its ttrpc socket');
  });

  after(async () => {
    if (daemon !== undefined && daemon.exitCode === null) {
      const exited = new Promise((r) => daemon?.once('exit', r));
      daemon.kill('SIGTERM');
      await exited;
    }
    cleanup();
  });

  it('forwards an event (empty reply) and gets containerd\'s status errors with their codes', async () => {
    const client = await TtrpcClient.connect(`unix://${address}`, { dial: platformDial });
    try {
      const reply = await client.call(EVENTS, 'Forward', forwardRequest(true), { timeoutMs: 5000, metadata: md });
      assert.equal(reply.length, 0);
      await assert.rejects(client.call(EVENTS, 'Forward', forwardRequest(false), { metadata: md }), (err: unknown) =>
        err instanceof TtrpcStatusError && err.grpcCode === GrpcCode.InvalidArgument && /timestamp must be set/.test(err.message));
      await assert.rejects(client.call(EVENTS, 'Nope', new Uint8Array(0)), { code: ErrorCode.NotImplemented, message: 'method Nope' });
      await assert.rejects(client.call('nope.Svc', 'X', new Uint8Array(0)), { code: ErrorCode.NotImplemented, message: 'service nope.Svc' });
      const many = await Promise.all(Array.from({ length: 16 }, () => client.call(EVENTS, 'Forward', forwardRequest(true), { metadata: md })));
      assert.equal(many.length, 16);
    } finally {
      await client.close();
    }
  });

  it('answers raw frames the way our server does: oversized, even id, unknown method bytes', async () => {
    const sock = createConnection(address);
    await new Promise((r) => sock.once('connect', r));
    const reader = new RawReader(sock);
    try {
      const header = Buffer.alloc(HEADER_LENGTH);
      header.writeUInt32BE(MAX_MESSAGE_LENGTH + 1, 0);
      header.writeUInt32BE(1, 4);
      header.writeUInt8(MessageType.Request, 8);
      sock.write(Buffer.concat([header, Buffer.alloc(MAX_MESSAGE_LENGTH + 1)]));
      const big = ttrpc.Response.decode((await reader.next()).data).status;
      assert.deepEqual([big?.code, big?.message], [GrpcCode.ResourceExhausted, 'message length 4194305 exceed maximum message size of 4194304']);

      sock.write(encodeFrame(2, MessageType.Request, 0, ttrpc.Request.encode({ service: EVENTS, method: 'Forward' }).finish()));
      const even = await reader.next();
      assert.equal(even.streamId, 2);
      assert.equal(ttrpc.Response.decode(even.data).status?.message, 'StreamID must be odd for client initiated streams');

      sock.write(encodeFrame(3, MessageType.Request, 0, ttrpc.Request.encode({ service: EVENTS, method: 'Nope' }).finish()));
      assert.equal(toHex((await reader.next()).data), '0a0f080c120b6d6574686f64204e6f7065');
    } finally {
      sock.destroy();
    }
  });
});
