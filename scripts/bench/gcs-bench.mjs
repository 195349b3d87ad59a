#!/usr/bin/env node
// (e) of scripts/bench.sh: GCS bridge round trips against the real guest agent. Boots src/guest/main.js (or
// the bundle the emulator's boot-files manifest names) with a temporary LCOW_GUEST_VM_DIR, connects with
// connectGuest from src/gcs, runs one busybox `sleep` container, then times, at 1 and 16 requests in flight,
// DumpStacks (the bridge's cheapest request: no runc, no I/O in the guest) and GetProperties(ProcessList)
// on the container (the guest asks runc, so that one measures a runc exec per call). Needs root, runc and
// /bin/busybox.
// Usage: node scripts/bench/gcs-bench.mjs [--build dist] [-n 5000] [--n-ps 300] [--concurrency 1,16] [--out FILE.json]
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { basename, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values: o } = parseArgs({
  options: {
    build: { type: 'string', default: 'dist' },
    n: { type: 'string', short: 'n', default: '5000' },
    'n-ps': { type: 'string', default: '300' },
    concurrency: { type: 'string', default: '1,16' },
    out: { type: 'string' },
  },
});
const build = resolve(o.build);
const gcs = await import(pathToFileURL(join(build, 'src', 'gcs', 'index.js')).href);
const { createLogger } = await import(pathToFileURL(join(build, 'src', 'log', 'index.js')).href);
// The emulator's teardown step for the VM's cgroups (runc made /lcow/<vm dir's name>/<cid>; runc delete leaves the parent).
const { removeVmCgroups } = await import(pathToFileURL(join(build, 'src', 'hcs', 'emulator', 'teardown.js')).href);

/** The guest entry the emulator would boot: the boot-files manifest's, else the compiled main.js. */
function guestEntry() {
  try {
    const m = JSON.parse(readFileSync(join(build, 'bin', 'LinuxBootFiles', 'initrd.img'), 'utf8'));
    const p = resolve(join(build, 'bin', 'LinuxBootFiles'), m.guestEntry);
    if (existsSync(p)) return p;
  } catch {
    /* fall through */
  }
  return join(build, 'src', 'guest', 'main.js');
}

/** Accepts connections on a unix socket path (an emulated vsock port), one at a time. */
async function listenOnce(path) {
  const server = createServer({ allowHalfOpen: true });
  await new Promise((res, rej) => server.once('error', rej).listen(path, res));
  const queue = [];
  const waiters = [];
  server.on('connection', (s) => (waiters.length ? waiters.shift()(s) : queue.push(s)));
  return {
    address: path,
    accept: () => (queue.length ? Promise.resolve(queue.shift()) : new Promise((r) => waiters.push(r))),
    close: () => new Promise((r) => server.close(() => r())),
  };
}

function rootfs(dir) {
  mkdirSync(join(dir, 'bin'), { recursive: true });
  for (const d of ['proc', 'dev', 'sys', 'tmp', 'etc']) mkdirSync(join(dir, d), { recursive: true });
  copyFileSync('/bin/busybox', join(dir, 'bin', 'busybox'));
  for (const a of ['sh', 'sleep']) symlinkSync('busybox', join(dir, 'bin', a));
}

const spec = (id) => ({
  ociVersion: '1.0.2',
  process: { terminal: false, user: { uid: 0, gid: 0 }, args: ['sleep', '600'], env: ['PATH=/bin'], cwd: '/', noNewPrivileges: true },
  root: { path: `/run/gcs/c/${id}/rootfs`, readonly: false },
  hostname: id,
  mounts: [{ destination: '/proc', type: 'proc', source: 'proc' }],
  linux: { namespaces: [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }] },
});

async function run(fn, total, inFlight) {
  const lat = new Float64Array(total);
  let next = 0;
  const worker = async () => {
    while (next < total) {
      const i = next++;
      const t0 = process.hrtime.bigint();
      await fn();
      lat[i] = Number(process.hrtime.bigint() - t0) / 1e3;
    }
  };
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: inFlight }, worker));
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  lat.sort();
  const pct = (p) => Math.round(lat[Math.min(total - 1, Math.floor((p / 100) * total))] * 10) / 10;
  return { inFlight, roundTripsPerSec: Math.round(total / secs), p50us: pct(50), p99us: pct(99) };
}

const vmDir = mkdtempSync('/tmp/lcow-gb-');
const share = join(vmDir, 'share');
let guest;
let gc;
try {
  rootfs(share);
  mkdirSync(join(vmDir, 'vsock'));
  mkdirSync(join(vmDir, 'plan9'));
  symlinkSync(share, join(vmDir, 'plan9', 'bb0'));
  const vsock = (port) => join(vmDir, 'vsock', `${port}.sock`);
  const gcsListener = await listenOnce(vsock(gcs.LinuxGcsVsockPort));
  const env = { ...process.env, LCOW_GUEST_VM_DIR: vmDir };
  delete env.NODE_EXTRA_CA_CERTS;
  delete env.NODE_OPTIONS;
  guest = spawn(process.execPath, ['--no-warnings', guestEntry(), '-v4', '-log-format', 'json', '-loglevel', 'warning'], { env, stdio: ['ignore', 'ignore', 'ignore'] });
  const conn = await gcsListener.accept();
  const log = createLogger({ level: 'error' });
  gc = await gcs.connectGuest({ conn, ioListen: (port) => listenOnce(vsock(port)), log, timeoutMs: 60_000 });
  await gc.modifySettings({ ResourceType: 'MappedDirectory', RequestType: 'Add', Settings: { ShareName: 'bb0', MountPath: '/layers/bb', ReadOnly: true, Port: 564 } });
  const id = 'gcsbench';
  await gc.modifySettings({
    ResourceType: 'CombinedLayers',
    RequestType: 'Add',
    Settings: { ContainerRootPath: `/run/gcs/c/${id}/rootfs`, Layers: [{ Path: '/layers/bb' }], ScratchPath: `/run/gcs/c/${id}/scratch` },
  });
  const c = await gc.createContainer(id, gcs.containerConfig(id, spec(id)));
  await c.executeProcess({});
  const levels = o.concurrency.split(',').map(Number);
  const measure = async (rpc, call, total) => {
    const results = [];
    for (const k of levels) {
      await run(call, Math.max(16, Math.floor(total / 10)), k); // warm-up
      results.push({ rpc, calls: total, ...(await run(call, total, k)) });
    }
    return results;
  };
  const report = {
    results: [
      ...(await measure('DumpStacks', () => gc.dumpStacks(), Number(o.n))),
      ...(await measure('GetProperties(ProcessList)', () => c.getProperties(['ProcessList']), Number(o['n-ps']))),
    ],
  };
  await c.shutdownForced().catch(() => undefined);
  await c.waitExit?.().catch(() => undefined);
  await gc.deleteContainerState(id).catch(() => undefined);
  await gc.modifySettings({ ResourceType: 'CombinedLayers', RequestType: 'Remove', Settings: { ContainerRootPath: `/run/gcs/c/${id}/rootfs` } }).catch(() => undefined);
  if (o.out) writeFileSync(o.out, JSON.stringify(report, null, 2) + '\n');
  else console.log(JSON.stringify(report));
} finally {
  gc?.close();
  if (guest && guest.exitCode === null) {
    const done = new Promise((r) => guest.once('exit', r));
    setTimeout(() => guest.kill('SIGKILL'), 5000).unref();
    await done;
  }
  try {
    execFileSync('sh', ['-c', `grep -o " ${vmDir}[^ ]*" /proc/mounts | sort -r | while read m; do umount -l "$m"; done`]);
  } catch {
    /* nothing mounted */
  }
  await removeVmCgroups(basename(vmDir));
  rmSync(vmDir, { recursive: true, force: true });
}
process.exit(0);
