/**
 * The Windows `start` handshake (re-exec `serve`, wait for its READY byte, then write shim.pid/address),
 * run on Linux with fake children: node scripts standing in for `serve`.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ErrorCode, ShimError } from '../../src/errdefs/index.js';
import { startShim } from '../../src/shim/manager.js';
import { READY_SIGNAL, selfArgv, spawnAndAwaitServing, writeFileAtomic } from '../../src/shim/reexec-start.js';
import type { ShimFlags } from '../../src/shim/flags.js';
import { UnixTransport, type PlatformTransport } from '../../src/transport/index.js';

let dir: string;
const pids: number[] = [];
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'reexec-'));
});
after(async () => {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await rm(dir, { recursive: true, force: true });
});

const node = (code: string) => ({ command: process.execPath, args: ['-e', code] });
const SERVE_FOREVER = `process.stdout.write(${JSON.stringify(READY_SIGNAL)}); setInterval(() => {}, 1000);`;

describe('re-exec handshake', { timeout: 30_000 }, () => {
  test('resolves with the child pid once it writes READY; the child keeps running detached', async () => {
    const pid = await spawnAndAwaitServing({ ...node(SERVE_FOREVER), cwd: dir, panicLog: join(dir, 'panic.log') });
    pids.push(pid);
    assert.ok(pid > 0);
    process.kill(pid, 0); // alive
  });

  test('a child that exits before serving fails start, quoting panic.log', async () => {
    const panicLog = join(dir, 'panic-exit.log');
    await assert.rejects(
      spawnAndAwaitServing({ ...node('process.stderr.write("boom: cannot create pipe"); process.exit(3)'), cwd: dir, panicLog }),
      (e: ShimError) => {
        assert.equal(e.code, ErrorCode.Unknown);
        assert.match(e.message, /exit status 3/);
        assert.match(e.message, /boom: cannot create pipe/);
        return true;
      },
    );
  });

  test('closing stdout without the READY byte is not serving', async () => {
    const panicLog = join(dir, 'panic-eof.log');
    await assert.rejects(
      spawnAndAwaitServing({ ...node('require("fs").closeSync(1); setTimeout(() => process.exit(4), 200)'), cwd: dir, panicLog }),
      (e: ShimError) => /exit status 4/.test(e.message),
    );
  });

  test('no signal in time: DeadlineExceeded, and the child is killed', async () => {
    const pidFile = join(dir, 'silent.pid');
    await assert.rejects(
      spawnAndAwaitServing({
        ...node(`require("fs").writeFileSync(${JSON.stringify(pidFile)}, String(process.pid)); setInterval(() => {}, 1000)`),
        cwd: dir,
        panicLog: join(dir, 'panic-silent.log'),
        timeoutMs: 1000,
      }),
      (e: ShimError) => e.code === ErrorCode.DeadlineExceeded,
    );
    const pid = Number(await readFile(pidFile, 'utf8'));
    for (let i = 0; i < 200; i++) {
      try {
        process.kill(pid, 0);
      } catch {
        return; // gone
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.fail(`silent child ${pid} still alive`);
  });

  test('a command that cannot be spawned fails with its error', async () => {
    await assert.rejects(
      spawnAndAwaitServing({ command: join(dir, 'no-such-binary'), args: [], cwd: dir, panicLog: join(dir, 'p.log') }),
      (e: ShimError) => e.code === ErrorCode.NotFound && /no-such-binary/.test(e.message),
    );
  });

  test('selfArgv drops the repeated executable of a single-executable application', () => {
    assert.deepEqual(selfArgv(['/opt/shim.js'], '/usr/bin/node'), ['/opt/shim.js']);
    assert.deepEqual(selfArgv(['--no-warnings', '/opt/shim.js'], '/usr/bin/node'), ['--no-warnings', '/opt/shim.js']);
    assert.deepEqual(selfArgv(['C:\\shim\\containerd-shim-lcow-v1.exe'], 'C:\\shim\\containerd-shim-lcow-v1.exe'), []);
  });

  test('writeFileAtomic leaves exactly the text, no newline, no temp file', async () => {
    const p = join(dir, 'address-atomic');
    writeFileAtomic(p, '\\\\.\\pipe\\x');
    assert.equal(await readFile(p, 'utf8'), '\\\\.\\pipe\\x');
  });

  test('writeFileAtomic that cannot rename (a directory is in the way) throws and leaves no temp file', async () => {
    const p = join(dir, 'blocked-atomic');
    await mkdir(join(p, 'inside'), { recursive: true });
    assert.throws(() => writeFileAtomic(p, 'x'), (err: NodeJS.ErrnoException) => err.code === 'EISDIR' || err.code === 'ENOTEMPTY');
    assert.deepEqual((await readdir(dir)).filter((n) => n.startsWith('.blocked-atomic.')), []);
  });
});

describe('start in handshake mode (the Windows path, with a fake serve)', { timeout: 30_000 }, () => {
  test('re-execs serve -socket <shim address>, then writes shim.pid and address and returns the address', async () => {
    const bundle = await mkdtemp(join(dir, 'bundle-'));
    const fake = join(dir, 'fake-serve.cjs');
    const argvFile = join(bundle, 'argv.json');
    await writeFile(fake, `require("fs").writeFileSync(${JSON.stringify(argvFile)}, JSON.stringify(process.argv.slice(2))); ${SERVE_FOREVER}`);
    const pipe = join(dir, 'shim-pipe.sock');
    const base = new UnixTransport();
    // The Windows transport's behaviour, with a unix path standing in for \\.\pipe\ProtectedPrefix\...
    const transport: PlatformTransport = Object.assign(Object.create(base) as PlatformTransport, {
      serveMode: 'ready-handshake' as const,
      shimAddress: (ns: string, id: string) => (ns === 'k8s.io' && id === 't1' ? pipe : 'wrong'),
    });
    const flags: ShimFlags = {
      action: 'start', namespace: 'k8s.io', id: 't1', address: '/run/containerd/containerd.sock', publishBinary: '/usr/bin/containerd',
      bundle, socket: '', debug: true, rest: [],
    };
    const address = await startShim(flags, [fake], transport);
    assert.equal(address, pipe);
    assert.equal(await readFile(join(bundle, 'address'), 'utf8'), pipe);
    const pid = Number(await readFile(join(bundle, 'shim.pid'), 'utf8'));
    pids.push(pid);
    process.kill(pid, 0);
    const argv = JSON.parse(await readFile(argvFile, 'utf8')) as string[];
    assert.deepEqual(argv, ['-namespace', 'k8s.io', '-id', 't1', '-address', '/run/containerd/containerd.sock',
      '-publish-binary', '/usr/bin/containerd', '-bundle', bundle, '-socket', pipe, '-debug', 'serve']);
  });

  test('refuses when a shim already serves the address', async () => {
    const bundle = await mkdtemp(join(dir, 'bundle-'));
    const pipe = join(dir, 'busy.sock');
    const base = new UnixTransport();
    const l = await base.listen(pipe);
    const transport: PlatformTransport = Object.assign(Object.create(base) as PlatformTransport, {
      serveMode: 'ready-handshake' as const,
      shimAddress: () => pipe,
    });
    const flags: ShimFlags = { action: 'start', namespace: 'ns', id: 'busy', address: '', publishBinary: '', bundle, socket: '', debug: false, rest: [] };
    await assert.rejects(startShim(flags, ['/nonexistent.js'], transport), (e: ShimError) => e.code === ErrorCode.AlreadyExists);
    await l.close();
  });
});
