import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Duplex } from 'node:stream';
import { ErrorCode, HResult, ShimError } from '../../src/errdefs/index.js';
import {
  GcsBridgeClosedError,
  GcsRpcError,
  NullContainerID,
  RPCCreate,
  RPCDeleteContainerState,
  RPCDumpStacks,
  RPCExecuteProcess,
  RPCGetProperties,
  RPCModifySettings,
  RPCNegotiateProtocol,
  RPCResizeConsole,
  RPCSignalProcess,
  RPCStart,
  RPCWaitForProcess,
  connectGuest,
  containerConfig,
  type GuestConnection,
} from '../../src/gcs/index.js';
import { FakeGuest, err } from './fakes/fake-guest.js';
import { FakeIoNetwork } from './fakes/fake-io.js';
import { duplexPair } from './fakes/memory-duplex.js';
import { captureLogger } from './fakes/raw-peer.js';

const SPEC = { ociVersion: '1.1.0', process: { args: ['/bin/sh'], cwd: '/' }, root: { path: 'rootfs' } };

async function setup(configure?: (g: FakeGuest) => void, timeoutMs?: number): Promise<{ gc: GuestConnection; guest: FakeGuest; net: FakeIoNetwork }> {
  const [host, guestEnd] = duplexPair();
  const net = new FakeIoNetwork();
  const guest = new FakeGuest(guestEnd, net);
  configure?.(guest);
  const gc = await connectGuest({ conn: host, ioListen: net.ioListen, log: captureLogger().log, timeoutMs });
  return { gc, guest, net };
}

function readAll(s: Duplex): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    s.on('data', (d: Buffer) => (text += d.toString()));
    s.on('end', () => resolve(text));
    s.on('error', reject);
  });
}

test('negotiates v4 first and decodes the capabilities', { timeout: 10_000 }, async () => {
  const { gc, guest } = await setup();
  const first = guest.requests[0]!;
  assert.equal(first.proc, RPCNegotiateProtocol);
  assert.equal(first.id, 0);
  assert.deepEqual(first.body, { ContainerId: '', ActivityId: NullContainerID, MinimumVersion: 4, MaximumVersion: 4 });
  assert.equal(gc.protocolVersion, 4);
  assert.equal(gc.os, 'linux');
  assert.deepEqual(gc.guestCapabilities, { NamespaceAddRequestSupported: true, SignalProcessSupported: true, DumpStacksSupported: true, DeleteContainerStateSupported: true });
  assert.deepEqual(gc.capabilities.SupportedSchemaVersions, [{ Major: 2, Minor: 1 }]);
  assert.equal(guest.requests.length, 1, 'LCOW handshake is a single RPC');
  gc.close();
});

test('absent capability flags read as false; empty RuntimeOsType is windows', { timeout: 10_000 }, async () => {
  const { gc } = await setup((g) => (g.capabilities = { GuestDefinedCapabilities: { DumpStacksSupported: true } }));
  assert.equal(gc.os, 'windows');
  assert.deepEqual(gc.guestCapabilities, { NamespaceAddRequestSupported: false, SignalProcessSupported: false, DumpStacksSupported: true, DeleteContainerStateSupported: false });
  gc.close();
});

test('a guest answering any version other than 4 is rejected and the connection closed', { timeout: 10_000 }, async () => {
  for (const version of [3, 5, 0]) {
    const [host, guestEnd] = duplexPair();
    const net = new FakeIoNetwork();
    const guest = new FakeGuest(guestEnd, net);
    guest.negotiatedVersion = version;
    await assert.rejects(
      connectGuest({ conn: host, ioListen: net.ioListen, log: captureLogger().log }),
      (e: unknown) => e instanceof ShimError && e.code === ErrorCode.FailedPrecondition && new RegExp(`version ${version}`).test(e.message),
    );
    assert.ok(host.destroyed);
  }
});

test('a guest refusing the negotiation surfaces its HRESULT', { timeout: 10_000 }, async () => {
  const [host, guestEnd] = duplexPair();
  const net = new FakeIoNetwork();
  const guest = new FakeGuest(guestEnd, net);
  guest.handle(RPCNegotiateProtocol, () => err(0xc037010c, 'unsupported protocol version'));
  await assert.rejects(connectGuest({ conn: host, ioListen: net.ioListen, log: captureLogger().log }), (e: unknown) => e instanceof GcsRpcError && e.result === 0xc037010c);
});

test('SendHostCreateMessage / SendHostStartMessage make the host create and start the UVM', { timeout: 10_000 }, async () => {
  const { gc, guest } = await setup((g) => (g.capabilities = { ...g.capabilities, SendHostCreateMessage: true, SendHostStartMessage: true }));
  assert.deepEqual(guest.requests.map((r) => r.proc), [RPCNegotiateProtocol, RPCCreate, RPCStart]);
  assert.equal(guest.requests[1]!.body['ContainerId'], NullContainerID);
  assert.deepEqual(JSON.parse(guest.requests[1]!.body['ContainerConfig'] as string), { SystemType: 'Container' });
  gc.close();
});

test('createContainer sends the ContainerConfig as JSON in a string; duplicates and bad ids are refused', { timeout: 10_000 }, async () => {
  const { gc, guest } = await setup();
  const c = await gc.createContainer('c1', containerConfig('c1', SPEC, '/run/gcs/c/c1/scratch'));
  assert.equal(c.id, 'c1');
  assert.equal(gc.container('c1'), c);
  const req = guest.requests.find((r) => r.proc === RPCCreate)!;
  assert.equal(req.body['ContainerId'], 'c1');
  assert.equal(typeof req.body['ContainerConfig'], 'string');
  assert.deepEqual(JSON.parse(req.body['ContainerConfig'] as string), {
    SchemaVersion: { Major: 2, Minor: 1 },
    OciBundlePath: '/run/gcs/c/c1',
    OciSpecification: SPEC,
    ScratchDirPath: '/run/gcs/c/c1/scratch',
  });
  await assert.rejects(gc.createContainer('c1', containerConfig('c1', SPEC)), (e: unknown) => e instanceof ShimError && e.code === ErrorCode.AlreadyExists);
  await assert.rejects(gc.createContainer('', containerConfig('', SPEC)), (e: unknown) => e instanceof ShimError && e.code === ErrorCode.InvalidArgument);
  guest.handle(RPCCreate, () => err(HResult.E_FAIL, 'runc create failed'));
  await assert.rejects(gc.createContainer('c2', containerConfig('c2', SPEC)), (e: unknown) => e instanceof GcsRpcError && e.result === HResult.E_FAIL);
  assert.equal(gc.container('c2'), undefined);
  gc.close();
});

test('exec: listeners first, one port per stream counting from 0x40000001, stdio relayed, wait gives the exit code', { timeout: 10_000 }, async () => {
  const { gc, guest, net } = await setup();
  const c = await gc.createContainer('c1', containerConfig('c1', SPEC));
  await c.start();
  const p = await c.executeProcess({ CreateStdInPipe: true, CreateStdOutPipe: true, CreateStdErrPipe: true });
  assert.deepEqual(net.listenedPorts, [0x40000001, 0x40000002, 0x40000003]);
  assert.deepEqual(guest.listeningAtExec[0]!.sort(), [0x40000001, 0x40000002, 0x40000003], 'listening before the request');
  assert.equal(net.listeners.size, 0, 'each listener closed after its one connection');
  const exec = guest.requests.find((r) => r.proc === RPCExecuteProcess)!;
  const settings = exec.body['Settings'] as Record<string, unknown>;
  assert.deepEqual(settings['VsockStdioRelaySettings'], { StdIn: 0x40000001, StdOut: 0x40000002, StdErr: 0x40000003 });
  assert.deepEqual(JSON.parse(settings['ProcessParameters'] as string), { CreateStdInPipe: true, CreateStdOutPipe: true, CreateStdErrPipe: true });
  // The host issued WaitForProcess (infinite) right after the pid arrived.
  const wait = guest.requests.find((r) => r.proc === RPCWaitForProcess)!;
  assert.deepEqual(wait.body, { ContainerId: 'c1', ActivityId: NullContainerID, ProcessId: p.pid, TimeoutInMs: 0xffffffff });

  const out = readAll(p.stdout!);
  const errText = readAll(p.stderr!);
  p.stdin!.write('hello ');
  p.stdin!.write('world');
  await p.closeStdin();
  await p.closeStdin();
  assert.equal(await out, 'HELLO WORLD');
  assert.equal(await errText, 'hello from stderr\n');
  assert.equal(await p.wait(), 0);

  // An exec (OciProcess) with only stdout: the port counter keeps counting.
  const p2 = await c.executeProcess({ CreateStdOutPipe: true, OciProcess: { args: ['ls'], cwd: '/' } });
  assert.deepEqual(net.listenedPorts.slice(3), [0x40000004]);
  assert.equal(p2.stdin, undefined);
  assert.equal(p2.stderr, undefined);
  const exec2 = guest.requests.filter((r) => r.proc === RPCExecuteProcess)[1]!;
  assert.deepEqual((exec2.body['Settings'] as Record<string, unknown>)['VsockStdioRelaySettings'], { StdOut: 0x40000004 });
  guest.exitProcess(p2.pid, 7);
  assert.equal(await p2.wait(), 7);
  gc.close();
});

test('signal, kill and resize', { timeout: 10_000 }, async () => {
  const { gc, guest } = await setup();
  const c = await gc.createContainer('c1', containerConfig('c1', SPEC));
  const p = await c.executeProcess({});
  await p.resize(120, 40);
  const resize = guest.requests.find((r) => r.proc === RPCResizeConsole)!;
  assert.deepEqual(resize.body, { ContainerId: 'c1', ActivityId: NullContainerID, ProcessId: p.pid, Height: 40, Width: 120 });
  await assert.rejects(p.resize(70000, 1), (e: unknown) => e instanceof ShimError && e.code === ErrorCode.InvalidArgument);
  assert.equal(await p.signal(15), true);
  const sig = guest.requests.find((r) => r.proc === RPCSignalProcess)!;
  assert.deepEqual(sig.body['Options'], { Signal: 15 });
  assert.equal(await p.wait(), 143);
  assert.equal(await p.kill(), false, 'signalling a process that is gone reports false');
  await assert.rejects(p.signal(-1), (e: unknown) => e instanceof ShimError && e.code === ErrorCode.InvalidArgument);
  const p2 = await c.executeProcess({});
  assert.equal(await p2.kill(), true);
  assert.equal(await p2.wait(), 137);
  gc.close();
});

test('getProperties decodes the Properties string; modifySettings, dumpStacks and deleteContainerState', { timeout: 10_000 }, async () => {
  const { gc, guest } = await setup();
  const c = await gc.createContainer('c1', containerConfig('c1', SPEC));
  const p = await c.executeProcess({});
  const props = await c.getProperties(['ProcessList']);
  assert.deepEqual(props.ProcessList, [{ ProcessId: p.pid }]);
  const q = guest.requests.find((r) => r.proc === RPCGetProperties)!;
  assert.equal(q.body['Query'], '{"PropertyTypes":["ProcessList"]}');

  await gc.modifySettings({ ResourceType: 'MappedDirectory', RequestType: 'Add', Settings: { MountPath: '/run/mnt/0', Port: 564, ShareName: '0', ReadOnly: true } });
  await c.update({ memory: { limit: 1 << 20 } });
  const mods = guest.requests.filter((r) => r.proc === RPCModifySettings);
  assert.deepEqual(mods[0]!.body, {
    ContainerId: NullContainerID,
    ActivityId: NullContainerID,
    Request: { ResourceType: 'MappedDirectory', RequestType: 'Add', Settings: { MountPath: '/run/mnt/0', Port: 564, ShareName: '0', ReadOnly: true } },
  });
  assert.deepEqual(mods[1]!.body['Request'], { ResourceType: 'ContainerConstraints', RequestType: 'Update', Settings: { Linux: { memory: { limit: 1 << 20 } } } });
  assert.equal(mods[1]!.body['ContainerId'], 'c1');

  assert.equal(await gc.dumpStacks(), 'goroutine 1 [running]');
  assert.ok(guest.requests.some((r) => r.proc === RPCDumpStacks));
  await gc.deleteContainerState('c1');
  assert.equal(guest.requests.find((r) => r.proc === RPCDeleteContainerState)!.body['ContainerId'], 'c1');
  assert.equal(gc.container('c1'), undefined);
  gc.close();
});

test('container exit notification resolves waitExit, even when it precedes the shutdown response', { timeout: 10_000 }, async () => {
  const { gc } = await setup();
  const c = await gc.createContainer('c1', containerConfig('c1', SPEC));
  assert.equal(c.exited, false);
  await c.shutdownGraceful();
  const exit = await c.waitExit();
  assert.equal(exit.type, 'UnexpectedExit');
  assert.equal(exit.result, 0);
  assert.equal(c.exited, true);
  gc.close();
});

test('a dropped bridge fails process waits, container waits and later calls with GcsBridgeClosedError', { timeout: 10_000 }, async () => {
  const { gc, guest } = await setup();
  const c = await gc.createContainer('c1', containerConfig('c1', SPEC));
  const p = await c.executeProcess({});
  guest.drop();
  await assert.rejects(p.wait(), (e: unknown) => e instanceof GcsBridgeClosedError && e.code === ErrorCode.Unavailable);
  await assert.rejects(c.waitExit(), (e: unknown) => e instanceof GcsBridgeClosedError);
  await assert.rejects(c.executeProcess({ CreateStdOutPipe: true }), (e: unknown) => e instanceof GcsBridgeClosedError);
  assert.ok(gc.closed);
});

test('a failed ExecuteProcess closes the stdio listeners', { timeout: 10_000 }, async () => {
  const { gc, guest, net } = await setup();
  const c = await gc.createContainer('c1', containerConfig('c1', SPEC));
  guest.handle(RPCExecuteProcess, () => err(HResult.E_FAIL, 'exec failed: no such file'));
  await assert.rejects(c.executeProcess({ CreateStdOutPipe: true, CreateStdErrPipe: true }), (e: unknown) => e instanceof GcsRpcError && e.errorMessage === 'exec failed: no such file');
  assert.equal(net.listeners.size, 0);
  net.failListen = true;
  await assert.rejects(c.executeProcess({ CreateStdOutPipe: true }), (e: unknown) => e instanceof ShimError && e.code === ErrorCode.Unavailable && /listen/.test(e.message));
  assert.equal(guest.requests.filter((r) => r.proc === RPCExecuteProcess).length, 1, 'nothing sent when listening fails');
  // The streams listen at once: when one of them fails, the ones that did listen are closed again.
  net.failListen = false;
  net.failPort = 0x40000005; // the stdout of the next request (stdin 4, stdout 5, stderr 6)
  await assert.rejects(
    c.executeProcess({ CreateStdInPipe: true, CreateStdOutPipe: true, CreateStdErrPipe: true }),
    (e: unknown) => e instanceof ShimError && e.code === ErrorCode.Unavailable && e.message === 'gcs: cannot listen for process stdio: listen 1073741829 refused',
  );
  assert.deepEqual(net.listenedPorts.slice(-2), [0x40000004, 0x40000006], 'stdin and stderr listened');
  assert.equal(net.listeners.size, 0, 'and were closed');
  assert.equal(guest.requests.filter((r) => r.proc === RPCExecuteProcess).length, 1, 'nothing sent');
  gc.close();
});

test('a guest that never dials the stdio ports: exec fails and the process is killed', { timeout: 10_000 }, async () => {
  const { gc, guest, net } = await setup((g) => (g.dialStdio = false), 50);
  const c = await gc.createContainer('c1', containerConfig('c1', SPEC));
  await assert.rejects(c.executeProcess({ CreateStdOutPipe: true }), (e: unknown) => e instanceof ShimError && /stdout connection on port 0x40000001/.test(e.message));
  const kill = guest.requests.find((r) => r.proc === RPCSignalProcess)!;
  assert.deepEqual(kill.body['Options'], { Signal: 9 });
  assert.equal(net.listeners.size, 0);
  gc.close();
});
