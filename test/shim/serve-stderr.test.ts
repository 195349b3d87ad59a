/**
 * A `serve` daemon whose log goes to stderr (no `log` FIFO in the bundle: run by hand, or by a test) and whose
 * stderr reader went away (EPIPE) still exits when asked. Before, every log line failed again, each failure was
 * an uncaught exception the crash guard logged to the same stderr, and the daemon spun at full CPU after
 * SIGTERM without ever exiting. The binary: env LCOW_SHIM_BIN, else dist/bin/containerd-shim-lcow-v1.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

const BIN = resolve(process.env.LCOW_SHIM_BIN ?? 'dist/bin/containerd-shim-lcow-v1');

describe('serve with a stderr whose reader went away', { timeout: 60_000 }, () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('exits on SIGTERM and removes its socket (no spin on EPIPE)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'serve-stderr-'));
    dirs.push(dir);
    const bundle = join(dir, 'bundle');
    await mkdir(bundle);
    await writeFile(join(bundle, 'config.json'), JSON.stringify({ ociVersion: '1.0.2', linux: {} }));
    const socket = join(dir, 's.sock');
    const env: NodeJS.ProcessEnv = { ...process.env, LCOW_SHIM_LOG_LEVEL: 'debug', LCOW_EMULATOR_ROOT: join(dir, 'vm') };
    delete env['NODE_OPTIONS'];
    delete env['NODE_EXTRA_CA_CERTS'];
    const args = ['-namespace', 'ns', '-id', 'stderr-gone', '-address', join(dir, 'ctd.sock'), '-publish-binary', '/bin/true', '-bundle', bundle, '-socket', socket, 'serve'];
    const daemon = spawn(BIN, args, { cwd: bundle, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let seen = '';
    await new Promise<void>((res, rej) => {
      daemon.once('exit', (code) => rej(new Error(`serve exited (${String(code)}) before serving: ${seen}`)));
      daemon.stderr.on('data', (c: Buffer) => {
        seen += c.toString();
        if (seen.includes('msg="shim serving"')) res();
      });
    });
    daemon.stderr.destroy(); // the reader goes away: every later line to stderr fails with EPIPE
    const exited = once(daemon, 'exit');
    daemon.kill('SIGTERM');
    const bound = new AbortController();
    const outcome = await Promise.race([
      exited.then(() => 'exited'),
      sleep(20_000, undefined, { signal: bound.signal }).then(() => 'still running 20 s after SIGTERM', () => 'aborted'),
    ]);
    bound.abort();
    if (outcome !== 'exited') daemon.kill('SIGKILL');
    assert.equal(outcome, 'exited');
    assert.equal(existsSync(socket), false, 'the socket is removed on the way out');
  });
});
