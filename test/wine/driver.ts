/**
 * The Windows half of the Wine tier: bundled into one CommonJS file (wine-env.ts) and run by the official
 * Windows node.exe under Wine, with koffi.node beside it. Named pipes between Wine processes work, Linux
 * processes cannot reach them, so every peer of the packaged shim (containerd's ttrpc client, the stdio pipe
 * servers, a logging binary) is this driver. Each command prints one JSON line on stdout and exits 0; a
 * failure prints {"error": …} and exits 1. Does nothing unless LCOW_WINE_DRIVER=1, or it is the logging
 * binary (the test runner also loads this file).
 *
 *   connect <pipe> <id> [<log pipe>]   ttrpc Connect on containerd.task.v2.Task, then Shutdown; with a log
 *                                      pipe: connect to it twice first (the first must be closed) and return
 *                                      what each connection read
 *   identity <pid>                     the process identity the Windows transport reads (kernel32)
 *   hold <pid file> <ms>               writes its pid, stays alive <ms> (a process that is not a shim)
 *   hcs <double.dll>                   create/start/properties/exit event/terminate/close through computecore
 *   stdio-redial                       the stdout pipe client redials a reader that went away
 *   binary-logger <driver.cjs> <id>    the binary:// logger protocol with this driver as the logging binary
 *   logger-child <out>                 (the logging binary) copies CONTAINER_STDOUT/STDERR into <out>
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createHcsApi } from '../../src/hcs/index.js';
import { containerd } from '../../src/proto/index.js';
import { startBinaryLogger } from '../../src/shim/stdio/index.js';
import { createTransport } from '../../src/transport/index.js';
import { dialPath } from '../../src/transport/dial.js';
import { TtrpcClient } from '../../src/ttrpc/index.js';
import { buildComputecoreDouble, Counter } from '../fixtures/computecore-double.js';
import { captureLogger } from '../fakes/index.js';
import { until } from '../fixtures/wait.js';

const task = containerd.task.v2;
const TASK = 'containerd.task.v2.Task';

interface LogReader {
  text: string;
  readonly closed: Promise<void>;
}

async function readLog(pipe: string): Promise<LogReader> {
  const c = await dialPath(pipe);
  // dialPath allows half-open connections: the shim closing its side shows as 'end' (no automatic 'close').
  const r = { text: '', closed: new Promise<void>((resolve) => (c.once('end', () => resolve()), c.once('close', () => resolve()))) };
  c.on('data', (b: Buffer) => (r.text += b.toString()));
  c.on('error', () => {});
  return r;
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([p, sleep(ms).then(() => Promise.reject(new Error(`timed out: ${what}`)))]);
}

async function connect(pipe: string, id: string, logPipe: string): Promise<object> {
  const first = logPipe === '' ? undefined : await readLog(logPipe);
  const second = logPipe === '' ? undefined : await readLog(logPipe);
  if (first !== undefined) await within(first.closed, 60_000, 'the shim closes the older log connection');
  const client = new TtrpcClient(await dialPath(pipe));
  const meta = { metadata: { 'containerd-namespace-ttrpc': 'wine' }, timeoutMs: 60_000 };
  const res = task.ConnectResponse.decode(await client.call(TASK, 'Connect', task.ConnectRequest.encode({ id }).finish(), meta));
  await client.call(TASK, 'Shutdown', task.ShutdownRequest.encode({ id }).finish(), meta).catch((e: Error) => e);
  await client.closed;
  if (second !== undefined) await within(second.closed, 60_000, 'the exiting shim closes its log connection');
  return { shimPid: res.shim_pid, version: res.version, ...(first ? { firstLog: first.text, secondLog: second?.text } : {}) };
}

async function hcs(dll: string): Promise<object> {
  process.env['LCOW_TEST_COMPUTECORE_DOUBLE'] = dll;
  const dbl = buildComputecoreDouble(); // the same module the binding loads: one set of counters
  const api = await createHcsApi({ backend: 'computecore', libraryPath: dll });
  dbl.script('HcsGetComputeSystemProperties', { doc: '{"Id":"w1@vm","State":"Running","RuntimeId":"2b6e0c2e-6a37-4a0c-8c42-6b1f0f1f1f1f"}' });
  const sys = await api.createComputeSystem('w1@vm', { Owner: 'wine', SchemaVersion: { Major: 2, Minor: 1 } });
  await sys.start();
  const props = await sys.properties();
  const reg = dbl.callsOf('HcsSetComputeSystemCallback').find((c) => c.str[0] === 'w1@vm');
  const data = '{"Status":0,"ExitType":"UnexpectedExit"}';
  const fired = dbl.fireEvent(reg?.num[3] ?? 0n, 1 /* SystemExited */, data, 20);
  const exit = await sys.waitExit();
  await sys.terminate();
  await sys.close();
  return {
    state: props.State,
    runtimeId: props.RuntimeId,
    fired,
    exit,
    calls: dbl.calls().map((c) => c.fn),
    created: dbl.callsOf('HcsCreateComputeSystem').map((c) => ({ id: c.str[0], doc: c.str[1] })),
    opsCreated: dbl.counter(Counter.OpsCreated),
    opsClosed: dbl.counter(Counter.OpsClosed),
    badOpCloses: dbl.counter(Counter.BadOpCloses),
    systemsClosed: dbl.counter(Counter.SystemsClosed),
  };
}

/** A pipe server that records each connection's bytes; `drop()` destroys the current connection. */
function recordingPipe(name: string): Promise<{ conns: string[]; drop(): void; close(): void }> {
  const conns: string[] = [];
  let current: Socket | undefined;
  const server = createServer((c) => {
    const i = conns.push('') - 1;
    current = c;
    c.on('data', (b: Buffer) => (conns[i] += b.toString()));
    c.on('error', () => {});
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(name, () => resolve({ conns, drop: () => current?.destroy(), close: () => server.close() }));
  });
}

async function stdioRedial(): Promise<object> {
  const name = `\\\\.\\pipe\\lcow-wine-stdout-${process.pid}`;
  const srv = await recordingPipe(name);
  const redials: number[] = [];
  const w = await createTransport().openStdioWriter(name, { retryTimeoutMs: 60_000, onRedial: (e) => redials.push(e.attempt) });
  w.write('one\n');
  await until('first write', () => srv.conns[0] === 'one\n', 30_000);
  srv.drop();
  await sleep(200);
  w.write('two\n');
  w.write('three\n');
  await until('writes after the redial', () => (srv.conns[1] ?? '').includes('three'), 30_000);
  await new Promise<void>((r) => w.end(r));
  srv.close();
  return { conns: srv.conns, redials: redials.length };
}

async function binaryLogger(driver: string, id: string): Promise<object> {
  const { logger: log, lines } = captureLogger();
  const out = `${driver}.${id}.out`;
  writeFileSync(out, '');
  const logger = await startBinaryLogger({ path: process.execPath, args: [driver, 'logger-child', out], containerId: id, namespace: 'wine', log, transport: createTransport(), readyTimeoutMs: 60_000, termTimeoutMs: 60_000 });
  logger.stdout.write('to stdout\n');
  logger.stderr.write('to stderr\n');
  await logger.close();
  const { readFileSync } = await import('node:fs');
  return { pid: logger.pid, out: readFileSync(out, 'utf8'), warnings: lines.filter((l) => l['level'] === 'warn').map((l) => l['message']) };
}

async function loggerChild(out: string): Promise<object> {
  const env = (k: string): string => process.env[k] ?? '';
  await new Promise<void>((resolve, reject) => {
    const w = createConnection(env('CONTAINER_WAIT'), () => (w.end(), resolve()));
    w.on('error', reject);
  });
  appendFileSync(out, `id=${env('CONTAINER_ID')} ns=${env('CONTAINER_NAMESPACE')} systemroot=${env('SYSTEMROOT')}\n`);
  await Promise.all(
    (['CONTAINER_STDOUT', 'CONTAINER_STDERR'] as const).map(
      (k) =>
        new Promise<void>((resolve, reject) => {
          const c = createConnection(env(k));
          c.on('data', (b: Buffer) => appendFileSync(out, `${k}: ${b.toString()}`));
          c.on('end', resolve);
          c.on('error', reject);
        }),
    ),
  );
  return {};
}

async function run(argv: string[]): Promise<object> {
  const [cmd, a = '', b = ''] = argv;
  switch (cmd) {
    case 'connect':
      return connect(a, b, argv[3] ?? '');
    case 'identity':
      return { identity: (await createTransport().processIdentity(Number(a))) ?? null };
    case 'hold':
      writeFileSync(a, String(process.pid));
      await sleep(Number(b));
      return {};
    case 'hcs':
      return hcs(a);
    case 'stdio-redial':
      return stdioRedial();
    case 'binary-logger':
      return binaryLogger(a, b);
    case 'logger-child':
      return loggerChild(a);
    default:
      throw new Error(`unknown driver command ${cmd}`);
  }
}

// The logging binary gets only the CONTAINER_* environment (and SYSTEMROOT), so it is recognised by that.
if (process.env['LCOW_WINE_DRIVER'] === '1' || (process.argv[2] === 'logger-child' && process.env['CONTAINER_WAIT'] !== undefined)) {
  // The result also goes to LCOW_WINE_DRIVER_OUT (a file) when set, so a lost stdout can be told apart from a
  // driver that never finished.
  const report = (r: object, code: number): never => {
    const line = `${JSON.stringify(r)}\n`;
    const file = process.env['LCOW_WINE_DRIVER_OUT'];
    if (file) writeFileSync(file, line);
    process.stdout.write(line);
    process.exit(code);
  };
  run(process.argv.slice(2)).then(
    (r) => report(r, 0),
    (e: Error) => report({ error: e.stack ?? String(e) }, 1),
  );
}
