/**
 * The serve process's crash guard, in a real process (the test runner has its own handlers for these
 * events, so the misbehaving code runs in support/crash-guard-child.ts).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../../src/log/index.js';
import { installCrashGuard } from '../../src/shim/crash-guard.js';

const CHILD = fileURLToPath(new URL('./support/crash-guard-child.js', import.meta.url));

function runChild(mode: string): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    const env = { ...process.env };
    delete env['NODE_TEST_CONTEXT'];
    execFile(process.execPath, ['--no-warnings', CHILD, mode], { env, timeout: 20_000 }, (err, stdout) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout: String(stdout) });
    });
  });
}

describe('crash guard: nothing crashes the shim', { timeout: 60_000 }, () => {
  it('logs an uncaught exception and unhandled rejections with their stacks; the process keeps running', async () => {
    const r = await runChild('survive');
    assert.equal(r.code, 0, r.stdout);
    assert.match(r.stdout, /uncaught exception \(logged; the shim keeps running\)/);
    assert.match(r.stdout, /boom in a timer/);
    assert.match(r.stdout, /type=TypeError/);
    assert.match(r.stdout, /stack="TypeError: boom in a timer\\n\s*at /);
    assert.match(r.stdout, /unhandled promise rejection.*lost promise/);
    assert.match(r.stdout, /unhandled promise rejection.*a bare string/);
    assert.match(r.stdout, /\nalive\n$/, 'it kept running after all of them');
    assert.doesNotMatch(r.stdout, /fatal:/);
  });

  it('a storm (more than STORM_LIMIT uncaught errors within the window) is fatal, once', async () => {
    const r = await runChild('storm');
    assert.equal(r.code, 3, r.stdout);
    assert.equal(r.stdout.match(/^fatal: more than 50 uncaught errors within 10000 ms$/gm)?.length, 1, r.stdout);
    assert.doesNotMatch(r.stdout, /no fatal/);
  });

  it('uninstall removes exactly its own handlers', () => {
    const log = createLogger({ level: 'error', stream: new Writable({ write: (_c, _e, cb) => cb() }) });
    const count = (): number[] => [process.listenerCount('uncaughtException'), process.listenerCount('unhandledRejection')];
    const before = count();
    const guard = installCrashGuard(log, () => undefined);
    assert.deepEqual(count(), before.map((n) => n + 1));
    guard.uninstall();
    assert.deepEqual(count(), before);
  });
});
