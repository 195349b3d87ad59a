/**
 * AgentProcess.launch for a runc-style launcher: the pid comes from --pid-file, found through the directory's
 * events (inotify) and the launcher's exit, never a timer. Each case pins one order of "file written" and
 * "launcher exited": written atomically while it runs on, written and exited before we look, written in two
 * steps (created empty, then filled), never written. A shell script stands in for runc.
 */
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentProcess, silentLogger } from '../../src/guest/index.js';

const dirs: string[] = [];
function bundle(): string {
  const d = mkdtempSync(join(tmpdir(), 'lcow-guest-proc-'));
  dirs.push(d);
  return d;
}

/** Launches `sh -c script` as an init whose pid file is <dir>/init.pid ($P in the script) and runc log <dir>/runc.log. */
function launch(dir: string, script: string): Promise<AgentProcess> {
  const pidFile = join(dir, 'init.pid');
  const logFile = join(dir, 'runc.log');
  return AgentProcess.launch(
    { kind: 'init', command: 'sh', args: ['-c', script], tty: false, pidFile, logFile, env: { ...process.env, P: pidFile } },
    {},
    silentLogger(),
  );
}

/** Watchers the process still holds (fs.watch handles), for the no-leak checks. */
const fsWatchers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'FSEventWrap').length;

// A missed wake-up would hang instead of failing: the timeout turns that into a failure (no timing is asserted).
describe('guest: a launched process\'s pid from its pid file', { timeout: 60_000 }, () => {
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('resolves once the file is renamed into place, while the launcher still runs (as runc run writes it)', async () => {
    const dir = bundle();
    // Written like runc's createPidFile: a temporary file in the same directory, then rename(2). The
    // launcher then runs on until killed: it must not have to exit for the pid to be known.
    const before = fsWatchers();
    const p = await launch(dir, 'sleep 0.2; echo 4242 > "$P.tmp" && mv "$P.tmp" "$P"; exec sleep 1000');
    assert.equal(p.pid, 4242);
    assert.equal(p.exitStatus, undefined, 'the launcher is still running');
    assert.equal(fsWatchers(), before, 'the directory watch is closed once the pid is known');
    p.killChild();
    assert.equal(await p.exited, 137);
  });

  it('resolves when the launcher wrote the file and exited before anyone looked (a fast /bin/true)', async () => {
    const dir = bundle();
    const p = await launch(dir, 'echo 4343 > "$P"; exit 0');
    assert.equal(p.pid, 4343);
    assert.equal(await p.exited, 0);
  });

  it('does not take a file created empty as the pid: it waits for the content', async () => {
    const dir = bundle();
    const p = await launch(dir, ': > "$P"; sleep 0.2; echo 4444 > "$P"; exec sleep 1000');
    assert.equal(p.pid, 4444);
    p.killChild();
    await p.exited;
  });

  it('rejects with runc\'s logged error when the launcher exits without writing the file', async () => {
    const dir = bundle();
    const before = fsWatchers();
    const script = 'echo \'{"level":"error","msg":"container_linux.go: starting container process caused: exec: \\"nope\\": not found"}\' >> "$(dirname "$P")/runc.log"; exit 1';
    await assert.rejects(launch(dir, script), /runc run failed: container_linux.go: starting container process caused: exec: "nope": not found/);
    assert.equal(fsWatchers(), before, 'the directory watch is closed after a failed launch');
  });

  it('rejects with the exit status when the launcher exits without a file or a log after a while', async () => {
    const dir = bundle();
    await assert.rejects(launch(dir, 'sleep 0.2; exit 7'), /runc run failed: exit status 7/);
  });

  it('rejects when the pid file\'s directory does not exist and the launcher fails', async () => {
    const dir = join(bundle(), 'missing');
    await assert.rejects(
      AgentProcess.launch({ kind: 'exec', command: 'sh', args: ['-c', 'exit 2'], tty: false, pidFile: join(dir, 'x.pid') }, {}, silentLogger()),
      /runc exec failed: exit status 2/,
    );
  });

  it('ignores other files of the directory', async () => {
    const dir = bundle();
    writeFileSync(join(dir, 'config.json'), '{}');
    const p = await launch(dir, 'for i in 1 2 3; do echo x > "$(dirname "$P")/other.$i"; done; sleep 0.1; echo 4545 > "$P"; exec sleep 1000');
    assert.equal(p.pid, 4545);
    p.killChild();
    await p.exited;
  });
});
