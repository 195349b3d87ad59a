import assert from 'node:assert/strict';
import type { Duplex, Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { captureLogger } from '../fakes/index.js';
import { ErrorCode, ShimError } from '../../src/errdefs/index.js';
import {
  buildLCOWDocument,
  createLCOW,
  gcsConnectionTimeoutMs,
  UvmState,
  type OptionsLCOW,
} from '../../src/uvm/index.js';
import { FakeHcsApi, FakeTransport, type FakeHcsSystem } from './fakes.js';
import { lcowOptions, WIN_HOST } from './helpers.js';

const RUNTIME_ID = '11111111-2222-3333-4444-555555555555';
const GCS_PORT = 0x40000000;

const capture = captureLogger;

async function setup(overrides: Partial<OptionsLCOW> = {}) {
  const hcs = new FakeHcsApi();
  const transport = new FakeTransport();
  const { logger, lines } = capture();
  const uvm = await createLCOW(lcowOptions(overrides), { hcs, transport, log: logger, exists: () => true });
  const system = hcs.systems[0] as FakeHcsSystem;
  return { hcs, transport, uvm, system, lines };
}

function readAll(s: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    s.on('data', (c: Buffer) => parts.push(c));
    s.on('end', () => resolve(Buffer.concat(parts)));
    s.on('error', reject);
  });
}

/** A guest that boots normally: reads entropy, writes logs, dials the GCS. */
function bootingGuest(transport: FakeTransport, system: FakeHcsSystem, logText = '') {
  const guest: { entropy?: Promise<Buffer>; log?: Duplex; gcs?: Duplex } = {};
  system.onStart = () => {
    guest.entropy = readAll(transport.listenerFor(1)!.connect());
    const log = transport.listenerFor(109)?.connect();
    if (log) {
      log.write(logText);
      // The log stream ends when the VM goes away.
      void system.waitExit().then(() => log.end());
      guest.log = log;
    }
    guest.gcs = transport.listenerFor(GCS_PORT)?.connect();
  };
  return guest;
}

const expectCode = (code: ErrorCode, pattern: RegExp) => (err: unknown) => {
  assert.ok(err instanceof ShimError, String(err));
  assert.equal(err.code, code, err.message);
  assert.match(err.message, pattern);
  return true;
};

describe('createLCOW', () => {
  it('submits the built document and binds the listeners to the runtime id before any start', async () => {
    const { hcs, transport, uvm, system } = await setup({ ID: 'vm1' });
    assert.equal(hcs.created.length, 1);
    assert.equal(hcs.created[0]?.id, 'vm1');
    assert.deepEqual(hcs.created[0]?.document, buildLCOWDocument(lcowOptions({ ID: 'vm1' }), WIN_HOST).document);
    assert.deepEqual(
      transport.listeners.map((l) => [l.addr.vmId, l.addr.serviceId]),
      [
        [RUNTIME_ID, '00000001-facb-11e6-bd58-64006a7986d3'],
        [RUNTIME_ID, '0000006d-facb-11e6-bd58-64006a7986d3'],
        [RUNTIME_ID, '40000000-facb-11e6-bd58-64006a7986d3'],
      ],
    );
    assert.deepEqual(system.calls, ['properties']);
    assert.equal(uvm.runtimeId, RUNTIME_ID);
    assert.equal(uvm.id, 'vm1');
    assert.equal(uvm.state, UvmState.Created);
    await uvm.close();
  });

  it('generates an id, skips the log listener without forwarding and the GCS listener without a guest connection', async () => {
    const { transport, uvm } = await setup({ ID: '', ForwardStderr: false, UseGuestConnection: false });
    assert.match(uvm.id, /^[0-9a-f-]{36}$/);
    assert.deepEqual(transport.listeners.map((l) => l.addr.serviceId.slice(0, 8)), ['00000001']);
    await uvm.close();
  });

  it('logs normalisation warnings', async () => {
    const { uvm, lines } = await setup({ MemorySizeInMB: 1001 });
    await new Promise((r) => setImmediate(r));
    assert.ok(lines.some((l) => l['level'] === 'warn' && /align to 2MB/.test(String(l['message'])) && l['assigned'] === 1002));
    assert.equal(uvm.memorySizeInMB, 1002);
    await uvm.close();
  });

  it('fails on missing boot files before creating anything', async () => {
    const hcs = new FakeHcsApi();
    const p = createLCOW(lcowOptions(), { hcs, transport: new FakeTransport(), exists: (f) => f.endsWith('kernel') });
    await assert.rejects(p, expectCode(ErrorCode.NotFound, /^boot file: 'C:\\LCOW\\initrd\.img' not found$/));
    assert.equal(hcs.created.length, 0);
  });

  it('fails on bad options before creating anything', async () => {
    const hcs = new FakeHcsApi();
    const p = createLCOW(lcowOptions({ SCSIControllerCount: 4 }), { hcs, transport: new FakeTransport(), exists: () => true });
    await assert.rejects(p, expectCode(ErrorCode.InvalidArgument, /SCSIControllerCount=4/));
    assert.equal(hcs.created.length, 0);
  });

  it('wraps an HCS create failure, keeping its code', async () => {
    const hcs = new FakeHcsApi();
    hcs.createError = new ShimError(ErrorCode.AlreadyExists, 'exists');
    const p = createLCOW(lcowOptions(), { hcs, transport: new FakeTransport(), exists: () => true });
    await assert.rejects(p, expectCode(ErrorCode.AlreadyExists, /^error while creating the compute system: exists$/));
  });

  it('tears down when the runtime id is missing', async () => {
    const hcs = new FakeHcsApi();
    hcs.runtimeId = undefined;
    const p = createLCOW(lcowOptions(), { hcs, transport: new FakeTransport(), exists: () => true });
    await assert.rejects(p, expectCode(ErrorCode.Internal, /no RuntimeId/));
    assert.deepEqual(hcs.systems[0]?.calls, ['properties', 'terminate', 'exit', 'close']);
  });

  it('closes the listeners already bound when a later bind fails', async () => {
    const hcs = new FakeHcsApi();
    const transport = new FakeTransport();
    transport.failListenOn = '40000000-facb-11e6-bd58-64006a7986d3';
    const p = createLCOW(lcowOptions(), { hcs, transport, exists: () => true });
    await assert.rejects(p, expectCode(ErrorCode.Unavailable, /bind failed/));
    assert.deepEqual(transport.listeners.map((l) => l.closed), [true, true]);
    assert.deepEqual(hcs.systems[0]?.calls, ['properties', 'terminate', 'exit', 'close']);
  });

  it('dials the network config proxy and fails create when it is not there', async () => {
    const ok = await setup({ NetworkConfigProxy: '\\\\.\\pipe\\ncproxy' });
    assert.ok(ok.uvm.networkConfigProxy);
    assert.deepEqual(ok.transport.dials, ['\\\\.\\pipe\\ncproxy']);
    await ok.uvm.close();
    const p = createLCOW(lcowOptions({ NetworkConfigProxy: '\\\\.\\pipe\\missing' }), {
      hcs: new FakeHcsApi(),
      transport: new FakeTransport(),
      exists: () => true,
    });
    await assert.rejects(p, /failed to connect to ncproxy service: no such pipe/);
  });
});

describe('UtilityVM.start', () => {
  it('injects entropy, runs the log handler, starts the system and hands over the GCS connection', async () => {
    const { transport, uvm, system, lines } = await setup({ ID: 'vm1' });
    const guest = bootingGuest(transport, system, '{"level":"info","msg":"gcs up","x":1}\n');
    let handed: Duplex | undefined;
    const result = await uvm.start({
      onGcsConnection: async (conn) => {
        handed = conn;
        return 'negotiated';
      },
    });
    assert.equal(result, 'negotiated');
    assert.ok(handed);
    assert.equal(uvm.state, UvmState.Running);
    assert.equal((await guest.entropy)?.length, 512);
    assert.deepEqual(transport.listeners.map((l) => l.closed), [true, true, true]);
    // the GCS connection is the one the guest dialled
    const echoed = new Promise<string>((r) => guest.gcs?.once('data', (c: Buffer) => r(c.toString())));
    handed.write('ping');
    assert.equal(await echoed, 'ping');
    await uvm.close();
    const gcsLine = lines.find((l) => l['message'] === 'gcs up');
    assert.equal(gcsLine?.['uvm-id'], 'vm1');
    assert.equal(gcsLine?.['x'], 1);
  });

  it('without an external GCS connection needs no callback', async () => {
    const { transport, uvm, system } = await setup({ UseGuestConnection: false });
    bootingGuest(transport, system);
    assert.equal(await uvm.start(), undefined);
    assert.equal(uvm.state, UvmState.Running);
    await uvm.close();
  });

  it('requires onGcsConnection when the shim owns the GCS connection', async () => {
    const { uvm } = await setup();
    await assert.rejects(uvm.start({}), expectCode(ErrorCode.InvalidArgument, /onGcsConnection/));
    assert.equal(uvm.state, UvmState.Created);
    await uvm.close();
  });

  it('fails with DeadlineExceeded when the guest never connects, and terminates the VM', async () => {
    const { uvm, system } = await setup();
    const p = uvm.start({ timeoutMs: 30, onGcsConnection: async () => 1 });
    await assert.rejects(p, expectCode(ErrorCode.DeadlineExceeded, /timed out after 30 ms .*waiting for entropy connection, log connection/));
    assert.deepEqual(system.calls, ['properties', 'start', 'terminate', 'exit']);
    assert.equal(uvm.state, UvmState.Stopped);
    await uvm.close();
    assert.equal(uvm.state, UvmState.Closed);
  });

  it('fails with DeadlineExceeded when entropy and log arrive but the GCS never dials', async () => {
    const { transport, uvm, system } = await setup();
    system.onStart = () => {
      // entropy read and the log connected (and ended), but the GCS never dials
      void readAll(transport.listenerFor(1)!.connect());
      transport.listenerFor(109)!.connect().end();
    };
    const p = uvm.start({ timeoutMs: 30, onGcsConnection: async () => 1 });
    await assert.rejects(p, expectCode(ErrorCode.DeadlineExceeded, /waiting for GCS connection\)$/));
    assert.ok(system.calls.includes('terminate'));
    await uvm.close();
  });

  it('fails with Unavailable when the VM exits during start', async () => {
    const { transport, uvm, system } = await setup();
    system.onStart = () => {
      void readAll(transport.listenerFor(1)!.connect());
      transport.listenerFor(109)!.connect().end();
      setImmediate(() => system.crash(0x80370106));
    };
    const p = uvm.start({ timeoutMs: 60_000, onGcsConnection: async () => 1 });
    await assert.rejects(p, expectCode(ErrorCode.Unavailable, /exited during start \(waiting for GCS connection\) \(hresult 0x80370106\)/));
    assert.equal(uvm.state, UvmState.Stopped);
    assert.ok(!system.calls.includes('terminate'), 'an exited VM is not terminated again');
    assert.equal((await uvm.waitExit()).hresult, 0x80370106);
    await uvm.close();
  });

  it('fails when the compute system does not start, cancelling the accepts', async () => {
    const { uvm, system, transport } = await setup();
    system.startError = new ShimError(ErrorCode.FailedPrecondition, 'hcs says no');
    await assert.rejects(uvm.start({ onGcsConnection: async () => 1 }), expectCode(ErrorCode.FailedPrecondition, /hcs says no/));
    assert.ok(system.calls.includes('terminate'));
    await uvm.close();
    assert.ok(transport.listeners.every((l) => l.closed));
  });

  it('fails when the handshake callback fails, and when it outlives the deadline (connection destroyed)', async () => {
    const a = await setup();
    bootingGuest(a.transport, a.system);
    await assert.rejects(
      a.uvm.start({ onGcsConnection: async () => Promise.reject(new ShimError(ErrorCode.Unavailable, 'bad version')) }),
      expectCode(ErrorCode.Unavailable, /bad version/),
    );
    assert.ok(a.system.calls.includes('terminate'));
    await a.uvm.close();

    const b = await setup();
    bootingGuest(b.transport, b.system);
    let conn: Duplex | undefined;
    const p = b.uvm.start({
      timeoutMs: 30,
      onGcsConnection: (c) => {
        conn = c;
        return new Promise<never>(() => undefined);
      },
    });
    await assert.rejects(p, expectCode(ErrorCode.DeadlineExceeded, /waiting for GCS handshake/));
    assert.equal(conn?.destroyed, true);
    await b.uvm.close();
  });

  it('is canceled by the caller signal and by close()', async () => {
    const a = await setup();
    const ac = new AbortController();
    const p = a.uvm.start({ signal: ac.signal, onGcsConnection: async () => 1 });
    setImmediate(() => ac.abort());
    await assert.rejects(p, expectCode(ErrorCode.Canceled, /canceled/));
    await a.uvm.close();

    const b = await setup();
    const q = b.uvm.start({ onGcsConnection: async () => 1 });
    const closed = b.uvm.close();
    await assert.rejects(q, expectCode(ErrorCode.Canceled, /closed during start/));
    await closed;
    assert.equal(b.uvm.state, UvmState.Closed);
    assert.deepEqual(b.system.calls, ['properties', 'start', 'terminate', 'exit', 'close']);
  });
});

describe('UtilityVM lifecycle', () => {
  it('close tears down in order: terminate, wait, listeners, output, handle; and is idempotent', async () => {
    const hcs = new FakeHcsApi();
    const transport = new FakeTransport();
    let system!: FakeHcsSystem;
    const uvm = await createLCOW(
      lcowOptions({
        OutputHandler: async (stream) => {
          for await (const _ of stream) void _;
          system.calls.push('output done');
        },
      }),
      { hcs, transport, exists: () => true },
    );
    system = hcs.systems[0] as FakeHcsSystem;
    bootingGuest(transport, system, 'anything');
    await uvm.start({ onGcsConnection: async () => undefined });
    const extra = await uvm.listenVsock(0x40000001);
    assert.equal(extra.address, `hvsock://${RUNTIME_ID}/40000001-facb-11e6-bd58-64006a7986d3`);
    await Promise.all([uvm.close(), uvm.close()]);
    await uvm.close();
    assert.deepEqual(system.calls, ['properties', 'start', 'terminate', 'exit', 'output done', 'close']);
    assert.equal(uvm.state, UvmState.Closed);
  });

  it('notices a VM that dies while running', async () => {
    const { transport, uvm, system } = await setup({ UseGuestConnection: false });
    bootingGuest(transport, system);
    await uvm.start();
    system.crash(0xc0370106);
    const exit = await uvm.waitExit();
    assert.equal(exit.hresult, 0xc0370106);
    await new Promise((r) => setImmediate(r));
    assert.equal(uvm.state, UvmState.Stopped);
    assert.equal(uvm.exit?.unexpected, true);
    await assert.rejects(uvm.listenVsock(0x40000001), expectCode(ErrorCode.FailedPrecondition, /state stopped/));
    await uvm.close();
    assert.ok(!system.calls.includes('terminate'));
  });

  it('modify forwards host-side requests and rejects guest requests', async () => {
    const { uvm, system } = await setup();
    await uvm.modify({ ResourcePath: 'VirtualMachine/Devices/Plan9/Shares', RequestType: 'Add', Settings: { Name: '0' } });
    assert.ok(system.calls.includes('modify VirtualMachine/Devices/Plan9/Shares'));
    await assert.rejects(uvm.modify({ ResourcePath: 'x', GuestRequest: {} }), expectCode(ErrorCode.InvalidArgument, /GuestRequest/));
    await uvm.close();
  });

  it('guards every invalid transition with FailedPrecondition naming the state', async () => {
    const { transport, uvm, system } = await setup({ UseGuestConnection: false });
    bootingGuest(transport, system);
    const starting = uvm.start();
    assert.equal(uvm.state, UvmState.Starting);
    await assert.rejects(uvm.start(), expectCode(ErrorCode.FailedPrecondition, /cannot start in state starting/));
    await assert.rejects(uvm.modify({}), expectCode(ErrorCode.FailedPrecondition, /cannot modify in state starting/));
    await starting;
    await assert.rejects(uvm.start(), expectCode(ErrorCode.FailedPrecondition, /cannot start in state running/));
    await uvm.close();
    await assert.rejects(uvm.start(), expectCode(ErrorCode.FailedPrecondition, /state closed/));
    await assert.rejects(uvm.modify({}), expectCode(ErrorCode.FailedPrecondition, /state closed/));
    await assert.rejects(uvm.listenVsock(5), expectCode(ErrorCode.FailedPrecondition, /state closed/));
  });
});

describe('gcsConnectionTimeoutMs', () => {
  it('honours HCSSHIM_TIMEOUT_GCSCONNECTION seconds, else two minutes', () => {
    assert.equal(gcsConnectionTimeoutMs({}), 120_000);
    assert.equal(gcsConnectionTimeoutMs({ HCSSHIM_TIMEOUT_GCSCONNECTION: '5' }), 5000);
    assert.equal(gcsConnectionTimeoutMs({ HCSSHIM_TIMEOUT_GCSCONNECTION: '0' }), 120_000);
    assert.equal(gcsConnectionTimeoutMs({ HCSSHIM_TIMEOUT_GCSCONNECTION: 'soon' }), 120_000);
  });

  it('is the default start budget', async () => {
    const saved = process.env['HCSSHIM_TIMEOUT_GCSCONNECTION'];
    process.env['HCSSHIM_TIMEOUT_GCSCONNECTION'] = '1';
    try {
      const { uvm } = await setup();
      await assert.rejects(uvm.start({ onGcsConnection: async () => 1 }), expectCode(ErrorCode.DeadlineExceeded, /timed out after 1000 ms/));
      await uvm.close();
    } finally {
      if (saved === undefined) delete process.env['HCSSHIM_TIMEOUT_GCSCONNECTION'];
      else process.env['HCSSHIM_TIMEOUT_GCSCONNECTION'] = saved;
    }
  });
});
