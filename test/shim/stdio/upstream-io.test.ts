import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, it } from 'node:test';
import { ErrorCode, ShimError } from '../../../src/errdefs/index.js';
import { openUpstreamIO, relayStdio } from '../../../src/shim/stdio/index.js';
import type { UpstreamOptions } from '../../../src/shim/stdio/index.js';
import { captureLog } from '../events/fake-events-server.js';
import { mkfifo, pattern, tempDir, until } from './helpers.js';
import { createTransport } from '../../../src/transport/index.js';

/** A regression must fail, not hang: the sockets and servers keep the event loop alive. */
const T = { timeout: 30_000 };
const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

function dir(): string {
  const t = tempDir();
  cleanup.push(t.cleanup);
  return t.dir;
}

const opts = (extra: Partial<UpstreamOptions> = {}): UpstreamOptions => ({ containerId: 'c1', namespace: 'ns1', log: captureLog().log, transport: createTransport(), ...extra });
const code = (c: ErrorCode, text: string) => (err: unknown): boolean =>
  err instanceof ShimError && err.code === c && err.message.includes(text);

/** A logging binary in the containerd protocol: records env and args, copies fd 3/4 to files, then signals. */
function loggerScript(d: string, body?: string): string {
  const path = join(d, 'logger.sh');
  writeFileSync(
    path,
    body ??
      [
        '#!/bin/sh',
        '# $1 = "out", $2 = output prefix',
        'echo "id=$CONTAINER_ID ns=$CONTAINER_NAMESPACE args=$*" > "$2.env"',
        'exec 5>&-',
        '/bin/cat <&3 > "$2.out.tmp" && /bin/mv "$2.out.tmp" "$2.out" &',
        '/bin/cat <&4 > "$2.err.tmp" && /bin/mv "$2.err.tmp" "$2.err" &',
        'wait',
        '',
      ].join('\n'),
  );
  chmodSync(path, 0o755);
  return path;
}

describe('openUpstreamIO', () => {
  it('opens nothing for empty strings', T, async () => {
    const up = await openUpstreamIO({ stdin: '', stdout: '', stderr: '', terminal: false }, opts());
    assert.equal(up.stdin, undefined);
    assert.equal(up.stdout, undefined);
    assert.equal(up.stderr, undefined);
    await up.close();
    await up.close();
  });

  it('accepts fifo:// URIs for the FIFO paths', T, async () => {
    const d = dir();
    const out = mkfifo(join(d, 'out'));
    const up = await openUpstreamIO({ stdin: '', stdout: `fifo://${out}`, stderr: '', terminal: false }, opts());
    cleanup.push(() => up.close());
    assert.ok(up.stdout);
  });

  it('refuses a terminal with a stderr (InvalidArgument), before opening anything', T, async () => {
    const d = dir();
    await assert.rejects(
      openUpstreamIO({ stdin: '', stdout: mkfifo(join(d, 'o')), stderr: mkfifo(join(d, 'e')), terminal: true }, opts()),
      code(ErrorCode.InvalidArgument, 'if using terminal, stderr must be empty'),
    );
  });

  it('refuses an unknown scheme with InvalidArgument `unknown STDIO scheme <scheme>`', T, async () => {
    await assert.rejects(
      openUpstreamIO({ stdin: '', stdout: 'tcp://1.2.3.4:5', stderr: 'tcp://1.2.3.4:5', terminal: false }, opts()),
      code(ErrorCode.InvalidArgument, 'unknown STDIO scheme tcp'),
    );
  });

  it('fails NotFound for a missing FIFO and closes what it had opened', T, async () => {
    const d = dir();
    const stdin = mkfifo(join(d, 'in'));
    await assert.rejects(
      openUpstreamIO({ stdin, stdout: join(d, 'missing'), stderr: '', terminal: false }, opts()),
      code(ErrorCode.NotFound, join(d, 'missing')),
    );
  });

  it('refuses a regular file where a FIFO is expected', T, async () => {
    const d = dir();
    const f = join(d, 'regular');
    writeFileSync(f, '');
    await assert.rejects(openUpstreamIO({ stdin: '', stdout: f, stderr: '', terminal: false }, opts()), code(ErrorCode.InvalidArgument, 'is not a FIFO'));
  });

  it('file:// appends stdout and stderr to one file, creating its directory', T, async () => {
    const d = dir();
    const path = join(d, 'logs', 'sub', 'c1.log');
    const up1 = await openUpstreamIO({ stdin: '', stdout: `file://${path}`, stderr: `file://${path}`, terminal: false }, opts());
    up1.stdout?.write('first\n');
    await new Promise<void>((resolve) => up1.stdout?.end(resolve));
    await up1.close();
    assert.equal(readFileSync(path, 'utf8'), 'first\n');
    const up = await openUpstreamIO({ stdin: '', stdout: `file://${path}`, stderr: `file://${path}`, terminal: false }, opts());
    cleanup.push(() => up.close());
    const gOut = new PassThrough();
    const gErr = new PassThrough();
    const relay = relayStdio(up, { stdout: gOut, stderr: gErr });
    gOut.end('out line\n');
    await new Promise((resolve) => setImmediate(resolve));
    gErr.end('err line\n');
    await relay.done;
    const text = readFileSync(path, 'utf8');
    assert.ok(text.startsWith('first\n'), 'appended, not truncated');
    assert.deepEqual(text.slice('first\n'.length).split('\n').sort(), ['', 'err line', 'out line']);
  });

  it('binary:// starts the logger with CONTAINER_ID/CONTAINER_NAMESPACE, args from the query, fds 3/4, and waits for fd 5', T, async () => {
    const d = dir();
    const script = loggerScript(d);
    const prefix = join(d, 'captured');
    const uri = `binary://${script}?out=${encodeURIComponent(prefix)}`;
    const up = await openUpstreamIO({ stdin: '', stdout: uri, stderr: uri, terminal: false }, opts());
    cleanup.push(() => up.close());
    // Ready means the script ran past `exec 5>&-`, so its env file exists already.
    assert.equal(readFileSync(`${prefix}.env`, 'utf8'), `id=c1 ns=ns1 args=out ${prefix}\n`);
    const gOut = new PassThrough();
    const gErr = new PassThrough();
    const relay = relayStdio(up, { stdout: gOut, stderr: gErr });
    const out = pattern(300_000, 9);
    gOut.end(out);
    gErr.end('to stderr');
    await relay.done;
    await up.close();
    await until(() => existsSync(`${prefix}.out`) && existsSync(`${prefix}.err`));
    assert.ok(readFileSync(`${prefix}.out`).equals(out));
    assert.equal(readFileSync(`${prefix}.err`, 'utf8'), 'to stderr');
  });

  it('binary:// fails DeadlineExceeded when the logger never signals readiness, and kills it', T, async () => {
    const d = dir();
    const pidFile = join(d, 'pid');
    const script = loggerScript(d, `#!/bin/sh\necho $$ > ${pidFile}\nexec /bin/sleep 30\n`);
    await assert.rejects(
      openUpstreamIO({ stdin: '', stdout: `binary://${script}`, stderr: '', terminal: false }, opts({ binaryReadyTimeoutMs: 200 })),
      code(ErrorCode.DeadlineExceeded, 'not ready after 200 ms'),
    );
    const pid = Number(readFileSync(pidFile, 'utf8'));
    await until(() => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    });
  });

  it('binary:// reports a binary that cannot be started', T, async () => {
    const d = dir();
    await assert.rejects(
      openUpstreamIO({ stdin: '', stdout: `binary://${join(d, 'nope')}`, stderr: '', terminal: false }, opts()),
      code(ErrorCode.NotFound, 'failed to start binary process'),
    );
  });

  it('binary:// logger that dies: writes fail with EPIPE, logged, relay still completes', T, async () => {
    const d = dir();
    const script = loggerScript(d, '#!/bin/sh\nexit 0\n');
    const logs = captureLog();
    const up = await openUpstreamIO({ stdin: '', stdout: `binary://${script}`, stderr: `binary://${script}`, terminal: false }, opts({ log: logs.log }));
    cleanup.push(() => up.close());
    const gOut = new PassThrough();
    const relay = relayStdio(up, { stdout: gOut, stderr: new PassThrough().end() }, { log: logs.log });
    await new Promise((resolve) => setTimeout(resolve, 50)); // let the logger exit first
    gOut.end(pattern(1 << 20, 5));
    await relay.done;
    await until(() => logs.has('warn', 'writing stdout upstream failed'));
  });
});
