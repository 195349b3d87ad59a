/**
 * The Windows logging-binary protocol (pipes served by the shim, CONTAINER_* environment, wait pipe),
 * run on Linux with unix sockets standing in for the named pipes and a node script as the logger.
 */
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ErrorCode, ShimError } from '../../../src/errdefs/index.js';
import { startWindowsBinaryLogger } from '../../../src/shim/stdio/binary-logger-windows.js';
import { UnixTransport } from '../../../src/transport/index.js';
import { silentLogger } from '../../fakes/index.js';
import { tempDir } from './helpers.js';

const { dir, cleanup } = tempDir();
after(cleanup);
const unix = new UnixTransport();

/** A logger binary: dials the wait pipe (closing it = ready), then copies stdout/stderr pipes to files. */
function fakeLogger(name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!${process.execPath}\nconst net = require('net'); const fs = require('fs');\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

const COPYING = `
fs.writeFileSync(process.argv[3], JSON.stringify({ env: process.env, args: process.argv.slice(2) }));
const w = net.connect(process.env.CONTAINER_WAIT, () => w.end());
let open = 2;
for (const s of ['STDOUT', 'STDERR']) {
  const c = net.connect(process.env['CONTAINER_' + s]);
  const chunks = [];
  c.on('data', (b) => chunks.push(b));
  c.on('end', () => { fs.writeFileSync(process.argv[3] + '.' + s, Buffer.concat(chunks)); if (--open === 0) process.exit(0); });
}`;

const base = (id: string) => ({
  containerId: id,
  namespace: 'k8s.io',
  log: silentLogger(),
  pipePath: (cid: string, s: string) => join(dir, `binary-${cid}-${s}`),
  listen: (p: string) => unix.listen(p),
  transport: unix,
});

describe('Windows logging binary', { timeout: 30_000 }, () => {
  test('serves the three pipes, passes exactly the CONTAINER_* environment, streams stdout and stderr', async () => {
    const record = join(dir, 'record.json');
    const logger = await startWindowsBinaryLogger({ ...base('c1'), path: fakeLogger('copy', COPYING), args: ['out', record] });
    logger.stdout.write('line 1\n');
    logger.stderr.write('oops\n');
    logger.stdout.write('line 2\n');
    await logger.close();
    const { env, args } = JSON.parse(readFileSync(record, 'utf8')) as { env: Record<string, string>; args: string[] };
    assert.deepEqual(args, ['out', record]);
    assert.deepEqual(env, {
      CONTAINER_ID: 'c1',
      CONTAINER_NAMESPACE: 'k8s.io',
      CONTAINER_STDOUT: join(dir, 'binary-c1-stdout'),
      CONTAINER_STDERR: join(dir, 'binary-c1-stderr'),
      CONTAINER_WAIT: join(dir, 'binary-c1-wait'),
    });
    assert.equal(readFileSync(`${record}.STDOUT`, 'utf8'), 'line 1\nline 2\n');
    assert.equal(readFileSync(`${record}.STDERR`, 'utf8'), 'oops\n');
  });

  test('a logger that never signals readiness: DeadlineExceeded and it is killed', async () => {
    const path = fakeLogger('mute', 'setInterval(() => {}, 1000);');
    await assert.rejects(
      startWindowsBinaryLogger({ ...base('c2'), path, args: [], readyTimeoutMs: 300 }),
      (e: ShimError) => e.code === ErrorCode.DeadlineExceeded && /not ready/.test(e.message),
    );
  });

  test('a logger that exits before readiness fails with its status; a missing binary fails too', async () => {
    await assert.rejects(
      startWindowsBinaryLogger({ ...base('c3'), path: fakeLogger('quit', 'process.exit(7);'), args: [] }),
      (e: ShimError) => /status 7/.test(e.message),
    );
    await assert.rejects(startWindowsBinaryLogger({ ...base('c4'), path: join(dir, 'missing'), args: [] }), ShimError);
  });

  test('a logger that ignores EOF is killed after the close timeout', async () => {
    const path = fakeLogger('stubborn', `const w = net.connect(process.env.CONTAINER_WAIT, () => w.end()); setInterval(() => {}, 1000);`);
    const logger = await startWindowsBinaryLogger({ ...base('c5'), path, args: [], termTimeoutMs: 200 });
    await logger.close();
    assert.throws(() => process.kill(logger.pid, 0));
  });
});
