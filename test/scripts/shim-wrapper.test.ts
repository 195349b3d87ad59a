/**
 * The built binary's wrapper (scripts/build-steps/30-code-cache.mjs): CommonJS, and every action runs
 * through the code-cached CommonJS bundle, so no action starts Node's ESM loader (its module jobs, resolver
 * and translators cost `delete` ~14 ms of CPU before our code ran). Checked on the real build in dist/:
 * Node's own list of loaded internal modules, read at exit by a preloaded probe.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';

const BIN_DIR = resolve('dist/bin');
const WRAPPER = join(BIN_DIR, 'containerd-shim-lcow-v1');
const BUNDLED = existsSync(join(BIN_DIR, 'containerd-shim-lcow-v1.cjs.cache'));

/** Runs the wrapper under `node --require probe`; returns its output and the ESM loader modules Node loaded. */
function run(probe: string, args: string[]): { status: number | null; stdout: Buffer; esm: string[] } {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.NODE_OPTIONS;
  delete env.NODE_TEST_CONTEXT;
  const r = spawnSync(process.execPath, ['--no-warnings', '--require', probe, WRAPPER, ...args], { env, timeout: 60_000 });
  const line = r.stderr.toString().split('\n').find((l) => l.startsWith('ESM-MODULES:')) ?? 'ESM-MODULES:';
  return { status: r.status, stdout: r.stdout, esm: line.slice('ESM-MODULES:'.length).split(',').filter(Boolean) };
}

describe('the binary wrapper', { skip: !BUNDLED && 'dist/ was built without the bundle and code cache' }, () => {
  let dir = '';
  let probe = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shim-wrapper-'));
    probe = join(dir, 'probe.cjs');
    await writeFile(probe, "process.on('exit', () => process.stderr.write('ESM-MODULES:' + process.moduleLoadList.filter((m) => m.includes('/esm/')).join(',') + '\\n'));\n");
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is CommonJS and names the cached bundle', () => {
    assert.deepEqual(JSON.parse(readFileSync(join(BIN_DIR, 'package.json'), 'utf8')), { type: 'commonjs' });
    const text = readFileSync(WRAPPER, 'utf8');
    assert.match(text, /^#!\/usr\/bin\/env -S node --no-warnings\n/);
    assert.match(text, /runCached\(.*'containerd-shim-lcow-v1\.cjs'\)/);
  });

  it('--version runs without the ESM loader', () => {
    const r = run(probe, ['--version']);
    assert.equal(r.status, 0);
    assert.match(r.stdout.toString(), /Runtime: io\.containerd\.lcow\.v1/);
    assert.ok(!r.esm.some((m) => m.includes('module_job')), `ESM modules loaded: ${r.esm.join(', ')}`);
    assert.ok(r.esm.length > 0, 'the probe saw Node\'s module list'); // the probe itself works (esm/utils loads at bootstrap)
  });

  it('delete after a clean release runs without the ESM loader and prints its DeleteResponse', async () => {
    const bundle = join(dir, 'bundle');
    await rm(bundle, { recursive: true, force: true });
    await mkdir(bundle);
    await writeFile(join(bundle, 'config.json'), '{}');
    // A released marker naming the (gone) daemon of shim.pid: delete skips HCS and the mount scan.
    await writeFile(join(bundle, 'shim.pid'), '2147483646');
    await writeFile(join(bundle, 'shim-released'), '2147483646');
    const r = run(probe, ['-namespace', 'wrapper-ns', '-id', 'wrapper-id', '-address', join(dir, 'x.sock'), '-bundle', bundle, 'delete']);
    assert.equal(r.status, 0);
    // DeleteResponse: exit_status 255 (field 2), then exited_at (field 3, a Timestamp).
    assert.deepEqual([...r.stdout.subarray(0, 3)], [0x10, 0xff, 0x01]);
    assert.equal(r.stdout[3], 0x1a);
    assert.ok(!r.esm.some((m) => m.includes('module_job')), `ESM modules loaded: ${r.esm.join(', ')}`);
  });
});
