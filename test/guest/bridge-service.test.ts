/**
 * The guest's request handling at the byte level: negotiation rules, error response shape, ActivityId echo,
 * chunked input, and the container/process operations against a fake runc (unit tier; no containers).
 */
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import {
  ComputeSystemNotificationV1,
  encodeFrame,
  NullContainerID,
  RPCCreate,
  RPCDeleteContainerState,
  RPCDumpStacks,
  RPCExecuteProcess,
  RPCGetProperties,
  RPCModifySettings,
  RPCNegotiateProtocol,
  RPCShutdownForced,
  RPCShutdownGraceful,
  RPCSignalProcess,
  RPCStart,
  RPCUpdateContainer,
  RPCWaitForProcess,
  requestType,
  responseType,
} from '../../src/gcs/protocol/index.js';
import { cleanupVmDir, tempDir } from './support/fixtures.js';
import { RawHost, useNegotiatedHost } from './support/raw-host.js';
import { UnixListener } from './support/unix-listener.js';

const ACT = '11111111-2222-3333-4444-555555555555';
const u32 = (n: unknown): number => (n as number) >>> 0;
const spec = (id: string): Record<string, unknown> => ({ process: { args: ['sh'], cwd: '/' }, root: { path: `/run/gcs/c/${id}/rootfs` } });
const config = (id: string): string => JSON.stringify({ SchemaVersion: { Major: 2, Minor: 1 }, OciBundlePath: `/run/gcs/c/${id}`, OciSpecification: spec(id) });

describe('guest bridge: negotiation and error responses', () => {
  let vmDir = '';
  let host: RawHost;
  beforeEach(async () => {
    if (host) host.close();
    if (vmDir) cleanupVmDir(vmDir);
    vmDir = tempDir();
    host = await RawHost.start(vmDir);
  });
  after(() => {
    host?.close();
    if (vmDir) cleanupVmDir(vmDir);
  });

  it('answers anything before NegotiateProtocol with E_NOTIMPL naming the header type', async () => {
    const r = await host.rpc(RPCCreate, { ContainerId: 'c1', ActivityId: ACT, ContainerConfig: config('c1') });
    assert.equal(r.type, 0x20100101);
    assert.equal(u32(r.body['Result']), 0x80004001);
    assert.equal(r.body['Result'], 0x80004001 | 0); // signed int32 on the wire
    assert.equal(r.body['ErrorMessage'], 'bridge: function not supported, header type: ComputeSystemCreateV1');
    assert.equal(r.body['ActivityId'], ACT);
    assert.deepEqual(r.body['ErrorRecords'], [
      { Result: 0x80004001 | 0, Message: r.body['ErrorMessage'], ModuleName: 'gcs', FileName: '', Line: 4294967295 },
    ]);
  });

  it('negotiates version 4 with exactly the Linux capabilities, once', async () => {
    const r = await host.rpc(RPCNegotiateProtocol, { ContainerId: '', ActivityId: ACT, MinimumVersion: 4, MaximumVersion: 4 });
    assert.deepEqual(r.body, {
      Result: 0,
      ActivityId: ACT,
      Version: 4,
      Capabilities: {
        SupportedSchemaVersions: [{ Major: 2, Minor: 1 }],
        RuntimeOsType: 'Linux',
        GuestDefinedCapabilities: { NamespaceAddRequestSupported: true, SignalProcessSupported: true, DumpStacksSupported: true, DeleteContainerStateSupported: true },
      },
    });
    const again = await host.rpc(RPCNegotiateProtocol, { MinimumVersion: 4, MaximumVersion: 4 });
    assert.equal(u32(again.body['Result']), 0x80004001);
    assert.equal(again.body['ActivityId'], undefined); // absent when the request had none
  });

  for (const [min, max] of [[5, 5], [3, 3], [1, 2]]) {
    it(`rejects versions ${min}..${max} with 0xC037010C`, async () => {
      const r = await host.rpc(RPCNegotiateProtocol, { MinimumVersion: min, MaximumVersion: max });
      assert.equal(u32(r.body['Result']), 0xc037010c);
      const ok = await host.rpc(RPCNegotiateProtocol, { MinimumVersion: 1, MaximumVersion: 9 });
      assert.equal(ok.body['Version'], 4);
    });
  }

  it('decodes requests fed one byte at a time', async () => {
    const r = await host.rpc(RPCNegotiateProtocol, { MinimumVersion: 4, MaximumVersion: 4 }, { chunk: 1 });
    assert.equal(r.body['Version'], 4);
  });

  it('answers a body that is not JSON with 0xC037010D and keeps serving', async () => {
    await host.write(encodeFrame(requestType(RPCNegotiateProtocol), 77, Buffer.from('{nope')));
    const bad = await host.waitFrame((f) => f.id === 77);
    assert.equal(u32(bad.body['Result']), 0xc037010d);
    const r = await host.rpc(RPCNegotiateProtocol, { MinimumVersion: 4, MaximumVersion: 4 });
    assert.equal(r.body['Version'], 4);
  });

  it('answers unknown types, responses sent to it and host-only RPCs with E_NOTIMPL', async () => {
    await host.rpc(RPCNegotiateProtocol, { MinimumVersion: 4, MaximumVersion: 4 });
    const upd = await host.rpc(RPCUpdateContainer, { ContainerId: 'x' });
    assert.equal(u32(upd.body['Result']), 0x80004001);
    await host.write(encodeFrame(responseType(RPCCreate), 90, { Result: 0 }));
    const resp = await host.waitFrame((f) => f.id === 90);
    assert.equal(u32(resp.body['Result']), 0x80004001);
    assert.match(String(resp.body['ErrorMessage']), /header type: 537919745/);
  });
});

describe('guest bridge: containers and processes (fake runc)', () => {
  let vmDir = '';
  let host: RawHost;
  const stdioListeners: UnixListener[] = [];
  before(async () => {
    vmDir = tempDir();
    host = await RawHost.negotiated(vmDir);
  });
  after(async () => {
    await host.containers.stopAll();
    host.close();
    for (const l of stdioListeners) await l.close();
    cleanupVmDir(vmDir);
  });

  async function create(id: string): Promise<void> {
    const r = await host.rpc(RPCCreate, { ContainerId: id, ActivityId: ACT, ContainerConfig: config(id) });
    assert.deepEqual(r.body, { Result: 0, ActivityId: ACT, SelectedProtocolVersion: 0 });
  }

  async function exec(id: string, params: Record<string, unknown>, relay?: Record<string, number>): Promise<number> {
    const r = await host.rpc(RPCExecuteProcess, {
      ContainerId: id,
      ActivityId: ACT,
      Settings: { ProcessParameters: JSON.stringify(params), ...(relay ? { VsockStdioRelaySettings: relay } : {}) },
    });
    assert.equal(r.body['Result'], 0, String(r.body['ErrorMessage']));
    return r.body['ProcessId'] as number;
  }

  it('Create writes the rewritten bundle and does not start anything', async () => {
    await create('c1');
    const bundle = join(vmDir, 'rootfs/run/gcs/c/c1/config.json');
    const written = JSON.parse(readFileSync(bundle, 'utf8')) as { root: { path: string } };
    assert.equal(written.root.path, join(vmDir, 'rootfs/run/gcs/c/c1/rootfs'));
    assert.deepEqual(host.runc.calls(), []);
    const dup = await host.rpc(RPCCreate, { ContainerId: 'c1', ContainerConfig: config('c1') });
    assert.equal(u32(dup.body['Result']), 0xc037010f);
    const old = await host.rpc(RPCCreate, { ContainerId: 'c9', ContainerConfig: JSON.stringify({ SchemaVersion: { Major: 2, Minor: 0 }, OciSpecification: spec('c9') }) });
    assert.equal(u32(old.body['Result']), 0xc037010d);
    assert.match(String(old.body['ErrorMessage']), /invalid schema version: \{2 0\}/);
    assert.equal(existsSync(join(vmDir, 'rootfs/run/gcs/c/c9')), false);
    // Errors with a stack carry it in the record (StackTrace, FileName, Line, FunctionName)…
    const [rec] = old.body['ErrorRecords'] as Array<Record<string, unknown>>;
    assert.deepEqual(Object.keys(rec!), ['Result', 'Message', 'StackTrace', 'ModuleName', 'FileName', 'Line', 'FunctionName']);
    assert.match(String(rec!['FileName']), /\.m?js$/);
    assert.ok(typeof rec!['Line'] === 'number' && rec!['Line'] > 0 && rec!['Line'] < 4294967295);
    assert.match(String(rec!['StackTrace']), /^at /);
    // …bare HRESULT errors do not, and read "HRESULT: 0x…".
    const missing = await host.rpc(RPCDeleteContainerState, { ContainerId: 'nope' });
    assert.equal(missing.body['ErrorMessage'], 'HRESULT: 0xc037010e');
    assert.deepEqual(missing.body['ErrorRecords'], [{ Result: 0xc037010e | 0, Message: 'HRESULT: 0xc037010e', ModuleName: 'gcs', FileName: '', Line: 4294967295 }]);
    const notJson = await host.rpc(RPCCreate, { ContainerId: 'c8', ContainerConfig: '{' });
    assert.equal(u32(notJson.body['Result']), 0xc037010d);
  });

  it('starts the init with runc run, waits with a timeout, signals through runc kill, notifies the exit', async () => {
    const pid = await exec('c1', { CreateStdOutPipe: false });
    assert.ok(pid > 0);
    assert.match(host.runc.calls().at(-1)!, /^--root \S+\/runc --log \S+runc-init.log --log-format json run --bundle \S+\/rootfs\/run\/gcs\/c\/c1 --pid-file \S+init.pid c1$/);
    const again = await exec('c1', {}).catch((e: unknown) => e);
    assert.ok(again instanceof Error); // a second init is an invalid state

    const timedOut = await host.rpc(RPCWaitForProcess, { ContainerId: 'c1', ProcessId: pid, TimeoutInMs: 0 });
    assert.equal(u32(timedOut.body['Result']), 0xc0370109);
    const unknown = await host.rpc(RPCWaitForProcess, { ContainerId: 'c1', ProcessId: 999999, TimeoutInMs: 0xffffffff });
    assert.equal(u32(unknown.body['Result']), 0x80070490);

    const props = await host.rpc(RPCGetProperties, { ContainerId: 'c1', Query: JSON.stringify({ PropertyTypes: ['ProcessList'] }) });
    assert.deepEqual(JSON.parse(props.body['Properties'] as string), { ProcessList: [{ ProcessId: pid }] });

    const waiting = host.rpc(RPCWaitForProcess, { ContainerId: 'c1', ProcessId: pid, TimeoutInMs: 0xffffffff });
    const sig = await host.rpc(RPCSignalProcess, { ContainerId: 'c1', ProcessId: pid, Options: { Signal: 15 } });
    assert.equal(sig.body['Result'], 0);
    assert.ok(host.runc.calls().some((c) => c.endsWith('kill c1 15')));
    const w = await waiting;
    assert.deepEqual(w.body, { Result: 0, ExitCode: 143 });
    const note = await host.waitFrame((f) => f.type === ComputeSystemNotificationV1);
    assert.equal(note.id, 0);
    assert.deepEqual(note.body, { ContainerId: 'c1', ActivityId: ACT, Type: 'UnexpectedExit', Operation: 'None', Result: 0 });

    const gone = await host.rpc(RPCSignalProcess, { ContainerId: 'c1', ProcessId: pid });
    assert.equal(u32(gone.body['Result']), 0x80070490);
    const del = await host.rpc(RPCDeleteContainerState, { ContainerId: 'c1' });
    assert.equal(del.body['Result'], 0);
    assert.ok(host.runc.calls().some((c) => c.endsWith('delete c1')), 'the state this fake run kept is deleted with runc delete');
    assert.equal(existsSync(join(host.paths.runcRoot, 'c1')), false);
    assert.equal(existsSync(join(vmDir, 'rootfs/run/gcs/c/c1')), false);
    const delAgain = await host.rpc(RPCDeleteContainerState, { ContainerId: 'c1' });
    assert.equal(u32(delAgain.body['Result']), 0xc037010e);
  });

  it('relays stdio over connections the guest dials, with stdin EOF on half-close', async () => {
    await create('c2');
    process.env['FAKE_RUNC_CMD'] = 'cat; echo done >&2; exit 4';
    const ports = { StdIn: 0x40000101, StdOut: 0x40000102, StdErr: 0x40000103 };
    const ls = await Promise.all(Object.values(ports).map((p) => UnixListener.listen(host.paths.vsockPath(p))));
    stdioListeners.push(...ls);
    const pidP = exec('c2', { CreateStdInPipe: true, CreateStdOutPipe: true, CreateStdErrPipe: true }, ports);
    const [stdin, stdout, stderr] = (await Promise.all(ls.map((l) => l.accept()))) as [Socket, Socket, Socket];
    const pid = await pidP;
    delete process.env['FAKE_RUNC_CMD'];
    const collect = (s: Socket): Promise<string> =>
      new Promise((resolve) => {
        let t = '';
        s.on('data', (d: Buffer) => (t += d.toString()));
        s.on('end', () => resolve(t));
      });
    const out = collect(stdout);
    const err = collect(stderr);
    stdin.end('ping\n');
    // Both outputs reached EOF (the guest half-closed them) and the process is gone...
    assert.equal(await out, 'ping\n');
    assert.equal(await err, 'done\n');
    // ...but until the host closes every output connection the process has not exited (stdio close handshake).
    const early = await host.rpc(RPCWaitForProcess, { ContainerId: 'c2', ProcessId: pid, TimeoutInMs: 200 });
    assert.equal(u32(early.body['Result']), 0xc0370109, 'WaitForProcess must not answer while the host holds stdout/stderr');
    stdout.destroy();
    const half = await host.rpc(RPCWaitForProcess, { ContainerId: 'c2', ProcessId: pid, TimeoutInMs: 200 });
    assert.equal(u32(half.body['Result']), 0xc0370109, 'stderr is still open');
    const waiting = host.rpc(RPCWaitForProcess, { ContainerId: 'c2', ProcessId: pid, TimeoutInMs: 0xffffffff });
    stderr.destroy();
    const w = await waiting;
    assert.equal(w.body['ExitCode'], 4);
    stdin.destroy();
  });

  it('fails ExecuteProcess with runc\'s message when runc fails, and when stdio cannot be dialled', async () => {
    await create('c3');
    process.env['FAKE_RUNC_FAIL'] = 'run';
    const r = await host.rpc(RPCExecuteProcess, { ContainerId: 'c3', Settings: { ProcessParameters: '{}' } });
    delete process.env['FAKE_RUNC_FAIL'];
    assert.equal(u32(r.body['Result']), 0x80004005);
    assert.match(String(r.body['ErrorMessage']), /runc run failed: fake runc: run failed/);
    const noListener = await host.rpc(RPCExecuteProcess, { ContainerId: 'c3', Settings: { ProcessParameters: '{}', VsockStdioRelaySettings: { StdOut: 0x40000999 } } });
    assert.equal(u32(noListener.body['Result']), 0x80004005);
    assert.match(String(noListener.body['ErrorMessage']), /failed to connect stdout to vsock port 1073744281/);
  });

  it('DeleteContainerState runs runc delete only when runc kept state, and fails with runc\'s error', async () => {
    // As a real foreground `runc run`: the container's state is removed by runc itself when the init exits.
    await create('c5');
    process.env['FAKE_RUNC_RUN_CLEANS'] = '1';
    process.env['FAKE_RUNC_CMD'] = 'exit 3';
    const pid = await exec('c5', {}).finally(() => {
      delete process.env['FAKE_RUNC_RUN_CLEANS'];
      delete process.env['FAKE_RUNC_CMD'];
    });
    const w = await host.rpc(RPCWaitForProcess, { ContainerId: 'c5', ProcessId: pid, TimeoutInMs: 0xffffffff });
    assert.equal(w.body['ExitCode'], 3);
    assert.equal(existsSync(join(host.paths.runcRoot, 'c5')), false);
    const del = await host.rpc(RPCDeleteContainerState, { ContainerId: 'c5' });
    assert.equal(del.body['Result'], 0, String(del.body['ErrorMessage']));
    assert.equal(host.runc.calls().filter((c) => / c5$/.test(c) && !/ run /.test(c)).length, 0, 'no runc call for a container runc already removed');
    assert.equal(existsSync(join(vmDir, 'rootfs/run/gcs/c/c5')), false);

    // State still there (the init exited, runc kept it): runc delete runs, and its failure is the response.
    await create('c6');
    const pid6 = await exec('c6', {});
    const waiting = host.rpc(RPCWaitForProcess, { ContainerId: 'c6', ProcessId: pid6, TimeoutInMs: 0xffffffff });
    assert.equal((await host.rpc(RPCSignalProcess, { ContainerId: 'c6', ProcessId: pid6, Options: { Signal: 9 } })).body['Result'], 0);
    assert.equal((await waiting).body['ExitCode'], 137);
    assert.equal(existsSync(join(host.paths.runcRoot, 'c6', 'state.json')), true);
    process.env['FAKE_RUNC_FAIL'] = 'delete';
    const failed = await host.rpc(RPCDeleteContainerState, { ContainerId: 'c6' }).finally(() => delete process.env['FAKE_RUNC_FAIL']);
    assert.equal(u32(failed.body['Result']), 0x80004005);
    assert.match(String(failed.body['ErrorMessage']), /errors deleting container state: runc delete failed: fake runc: delete failed/);
    assert.ok(host.runc.calls().some((c) => c.endsWith('delete c6')));
    assert.equal(u32((await host.rpc(RPCDeleteContainerState, { ContainerId: 'c6' })).body['Result']), 0xc037010e, 'forgotten even so');
    rmSync(join(host.paths.runcRoot, 'c6'), { recursive: true }); // what the failed runc delete left
  });

  it('applies ContainerConstraints with runc update and refuses other container resources', async () => {
    await create('c4');
    await exec('c4', {});
    const linux = { memory: { limit: 1048576 } };
    const r = await host.rpc(RPCModifySettings, { ContainerId: 'c4', Request: { ResourceType: 'ContainerConstraints', RequestType: 'Update', Settings: { Linux: linux } } });
    assert.equal(r.body['Result'], 0, String(r.body['ErrorMessage']));
    assert.deepEqual(host.runc.resources('c4'), linux);
    const bad = await host.rpc(RPCModifySettings, { ContainerId: 'c4', Request: { ResourceType: 'MappedDirectory', Settings: {} } });
    assert.equal(u32(bad.body['Result']), 0x80070057);
    const shut = await host.rpc(RPCShutdownGraceful, { ContainerId: 'c4' });
    assert.equal(shut.body['Result'], 0);
    assert.ok(host.runc.calls().some((c) => c.endsWith('kill c4 15')));
    const note = await host.waitFrame((f) => f.type === ComputeSystemNotificationV1 && f.body.includes('"c4"'));
    assert.equal(note.body['Type'], 'GracefulExit');
  });

  it('handles UVM-level requests: Start no-op, DumpStacks, GetProperties refused, unknown resources, VM shutdown', async () => {
    assert.equal((await host.rpc(RPCStart, { ContainerId: NullContainerID })).body['Result'], 0);
    const stacks = await host.rpc(RPCDumpStacks, { ContainerId: NullContainerID });
    assert.match(String(stacks.body['GuestStacks']), /container c4: exited/);
    const props = await host.rpc(RPCGetProperties, { ContainerId: NullContainerID, Query: '{"PropertyTypes":["ProcessList"]}' });
    assert.equal(u32(props.body['Result']), 0x80004005);
    const unknown = await host.rpc(RPCModifySettings, { ContainerId: NullContainerID, Request: { ResourceType: 'Bogus' } });
    assert.equal(u32(unknown.body['Result']), 0x80004005);
    // VPMem device 0 is not attached (no <vmDir>/vpmem/0): E_FAIL, as the real guest's failed mount.
    const vpmem = await host.rpc(RPCModifySettings, { ContainerId: NullContainerID, Request: { ResourceType: 'VPMemDevice', Settings: { MountPath: '/run/layers/p0' } } });
    assert.equal(u32(vpmem.body['Result']), 0x80004005);
    const mapped = await host.rpc(RPCModifySettings, { ContainerId: NullContainerID, Request: { ResourceType: 'VPMemDevice', Settings: { MountPath: '/run/layers/p0', MappingInfo: { DeviceOffsetInBytes: 4096 } } } });
    assert.equal(u32(mapped.body['Result']), 0x80004001);
    const escape = await host.rpc(RPCModifySettings, { ContainerId: NullContainerID, Request: { ResourceType: 'MappedDirectory', Settings: { ShareName: '../x', MountPath: '/a' } } });
    assert.equal(u32(escape.body['Result']), 0x80070057);
    const net = await host.rpc(RPCModifySettings, { ContainerId: NullContainerID, Request: { ResourceType: 'Network', Settings: {} } });
    assert.equal(net.body['Result'], 0);
    // ShutdownForced on the VM: no response, the agent is asked to power off.
    await host.write(encodeFrame(requestType(RPCShutdownForced), 4242, { ContainerId: NullContainerID }));
    const probe = await host.rpc(RPCStart, { ContainerId: NullContainerID });
    assert.equal(probe.body['Result'], 0);
    assert.deepEqual(host.shutdownRequests, [true]);
    assert.equal(host.frames.some((f) => f.id === 4242), false);
  });
});

describe('guest bridge: DeleteContainerState is as destructive as the real GCS', { skip: process.getuid?.() !== 0 ? 'needs root (bind mounts)' : false }, () => {
  const s = useNegotiatedHost();
  const shareDirs: string[] = [];
  after(() => {
    for (const d of shareDirs) cleanupVmDir(d);
  });

  /** A "host directory" shared into the VM as Plan9 share `name` and mounted read-write at the container's rootfs. */
  async function shareAsRootfs(id: string, name: string): Promise<string> {
    const shareDir = tempDir();
    shareDirs.push(shareDir);
    mkdirSync(join(shareDir, 'sub'));
    writeFileSync(join(shareDir, 'a'), 'user data');
    writeFileSync(join(shareDir, 'sub', 'b'), 'more user data');
    mkdirSync(s.host.paths.plan9Dir, { recursive: true });
    symlinkSync(shareDir, s.host.paths.plan9Link(name));
    const add = await s.host.rpc(RPCModifySettings, {
      ContainerId: NullContainerID,
      Request: { ResourceType: 'MappedDirectory', RequestType: 'Add', Settings: { MountPath: `/run/gcs/c/${id}/rootfs`, ShareName: name, Port: 564 } },
    });
    assert.equal(add.body['Result'], 0, String(add.body['ErrorMessage']));
    const r = await s.host.rpc(RPCCreate, { ContainerId: id, ActivityId: ACT, ContainerConfig: config(id) });
    assert.equal(r.body['Result'], 0, String(r.body['ErrorMessage']));
    return shareDir;
  }

  it('with the share still mounted: the host directory is emptied through the mount and the call fails with E_FAIL', async () => {
    const dir = await shareAsRootfs('d1', 's1');
    const del = await s.host.rpc(RPCDeleteContainerState, { ContainerId: 'd1' });
    assert.equal(u32(del.body['Result']), 0x80004005);
    assert.match(String(del.body['ErrorMessage']), /errors deleting container state: unlinkat \S+\/run\/gcs\/c\/d1\/rootfs: device or resource busy/);
    assert.deepEqual(readdirSync(dir), [], 'the real GCS deletes through mounts: so does ours');
    // The container is forgotten even though the delete failed.
    const again = await s.host.rpc(RPCDeleteContainerState, { ContainerId: 'd1' });
    assert.equal(u32(again.body['Result']), 0xc037010e);
    const rm = await s.host.rpc(RPCModifySettings, {
      ContainerId: NullContainerID,
      Request: { ResourceType: 'MappedDirectory', RequestType: 'Remove', Settings: { MountPath: '/run/gcs/c/d1/rootfs', ShareName: 's1', Port: 564 } },
    });
    assert.equal(rm.body['Result'], 0, String(rm.body['ErrorMessage']));
  });

  it('after the host released the share (the host rule): the delete succeeds and the directory is untouched', async () => {
    const dir = await shareAsRootfs('d2', 's2');
    const rm = await s.host.rpc(RPCModifySettings, {
      ContainerId: NullContainerID,
      Request: { ResourceType: 'MappedDirectory', RequestType: 'Remove', Settings: { MountPath: '/run/gcs/c/d2/rootfs', ShareName: 's2', Port: 564 } },
    });
    assert.equal(rm.body['Result'], 0, String(rm.body['ErrorMessage']));
    const del = await s.host.rpc(RPCDeleteContainerState, { ContainerId: 'd2' });
    assert.equal(del.body['Result'], 0, String(del.body['ErrorMessage']));
    assert.equal(existsSync(join(s.vmDir, 'rootfs/run/gcs/c/d2')), false);
    assert.equal(readFileSync(join(dir, 'a'), 'utf8'), 'user data');
    assert.equal(readFileSync(join(dir, 'sub', 'b'), 'utf8'), 'more user data');
  });
});

describe('guest bridge: the ShutdownGraceful race (test mode)', () => {
  const s = useNegotiatedHost({ shutdownRace: true, beforeClose: (h) => h.containers.stopAll() });

  it('sends the exit notification, typed UnexpectedExit, before the ShutdownGraceful response', async () => {
    const r = await s.host.rpc(RPCCreate, { ContainerId: 'r1', ActivityId: ACT, ContainerConfig: config('r1') });
    assert.equal(r.body['Result'], 0);
    const started = await s.host.rpc(RPCExecuteProcess, { ContainerId: 'r1', ActivityId: ACT, Settings: { ProcessParameters: '{}' } });
    assert.ok((started.body['ProcessId'] as number) > 0);
    const resp = await s.host.rpc(RPCShutdownGraceful, { ContainerId: 'r1' });
    assert.equal(resp.body['Result'], 0);
    const noteAt = s.host.frames.findIndex((f) => f.type === ComputeSystemNotificationV1);
    const respAt = s.host.frames.findIndex((f) => f.type === responseType(RPCShutdownGraceful));
    assert.ok(noteAt >= 0 && noteAt < respAt, `notification at ${noteAt}, response at ${respAt}`);
    const note = await s.host.waitFrame((f) => f.type === ComputeSystemNotificationV1);
    assert.equal(note.body['Type'], 'UnexpectedExit');
    assert.equal(note.body['ContainerId'], 'r1');
  });
});
