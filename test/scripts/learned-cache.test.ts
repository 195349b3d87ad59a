/**
 * The learned code cache of the executable's loader (scripts/build-steps/code-cache.cjs): `serve` writes at
 * its exit V8's data for everything it compiled, once it ran a task to its release, when it could not load
 * such a cache itself; the daemons after it load that. Checked with a small bundle in the built loader's
 * format (a CommonJS function, its build-time cache made by the loader's makeCache), each load in a fresh
 * `node` as the daemon's would be, and on the real bundle (dist/, or env LCOW_SHIM_BIN's directory).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, test } from 'node:test';

const BIN = resolve(process.env.LCOW_SHIM_BIN ?? 'dist/bin/containerd-shim-lcow-v1');
const DIR = dirname(BIN);
const LOADER = join(DIR, 'code-cache.cjs');
const tmp = mkdtempSync(join(tmpdir(), 'lcow-learned-cache-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * A bundle whose module body compiles little: `work()` calls functions that are compiled only when first
 * called (lazily), as a container's life does in the daemon. `RELEASED` says what hasReleasedTask answers.
 */
function bundleSource(released: boolean, variant = 'a'): string {
  const fns = Array.from({ length: 40 }, (_, i) => `function f${i}(x) { const o = { k${i}: x, v: '${variant}' }; return Object.keys(o).length + x * ${i}; }`);
  return [
    '(function (exports, require, module, __filename, __dirname) { ',
    ...fns,
    `exports.work = function () { let s = 0; ${fns.map((_, i) => `s += f${i}(${i});`).join(' ')} return s; };`,
    `exports.hasReleasedTask = () => ${released};`,
    'exports.warm = async () => undefined;',
    '\n})',
  ].join('\n');
}

/** A directory with the loader and a bundle (with its build-time cache); returns the bundle's path. */
function makeBundle(name: string, released: boolean): string {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  copyFileSync(LOADER, join(dir, 'code-cache.cjs'));
  const file = join(dir, 'bundle.cjs');
  writeBundle(file, bundleSource(released));
  return file;
}

/** Writes the bundle `file` and its build-time cache, as the build does. */
function writeBundle(file: string, source: string): void {
  writeFileSync(file, source);
  const made = spawnSync(process.execPath, ['--no-warnings', '-e', `require(${JSON.stringify(join(dirname(file), 'code-cache.cjs'))}).makeCache(${JSON.stringify(file)})`], { encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
}

/**
 * Loads `file` in a fresh node as `serve` does (learn), runs work(); returns which cache V8 took. `learn`
 * 'default': the loader's default, for a process whose command line ends in `lastArg`.
 */
function load(file: string, learn: boolean | 'default' = true, lastArg = 'x'): { cache: string; rejected: boolean; work: number } {
  const opts = learn === 'default' ? '' : `, { learn: ${learn} }`;
  const code = `const r = require(${JSON.stringify(join(dirname(file), 'code-cache.cjs'))}).loadCached(${JSON.stringify(file)}${opts});
    process.stdout.write(JSON.stringify({ cache: r.cache, rejected: r.script.cachedDataRejected === true, work: r.exports.work() }));`;
  const r = spawnSync(process.execPath, ['--no-warnings', '-e', code, lastArg], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { cache: string; rejected: boolean; work: number };
}

const learnedOf = (file: string): string => `${file}.cache.learned`;
const leftovers = (file: string): string[] => readdirSync(dirname(file)).filter((n) => n.endsWith('.tmp'));

test('a daemon that released a task writes what it compiled at exit; the next one loads it', () => {
  const file = makeBundle('learn', true);
  const first = load(file);
  assert.deepEqual(first, { cache: 'build', rejected: false, work: first.work });
  assert.ok(existsSync(learnedOf(file)), 'no learned cache written');
  assert.deepEqual(leftovers(file), []);
  // Its first line names this bundle (size, mtime, inode); the V8 data after it holds the lazily compiled
  // functions the build-time cache lacks.
  const learned = readFileSync(learnedOf(file));
  const st = statSync(file);
  const head = `lcow-learned-cache ${st.size} ${st.mtimeMs} ${st.ino}\n`;
  assert.equal(learned.toString('latin1', 0, head.length), head);
  const build = readFileSync(`${file}.cache`);
  assert.ok(learned.length - head.length > build.length, `learned ${learned.length - head.length} bytes, build ${build.length}`);
  const second = load(file);
  assert.deepEqual(second, { cache: 'learned', rejected: false, work: first.work });
  // Not rewritten by a daemon that loaded it.
  assert.deepEqual(readFileSync(learnedOf(file)), learned);
});

test('nothing is learned by a daemon that released no task, nor by an action that does not learn', () => {
  const idle = makeBundle('idle', false);
  assert.equal(load(idle).cache, 'build');
  assert.equal(existsSync(learnedOf(idle)), false);
  const other = makeBundle('other-action', true);
  assert.equal(load(other, false).cache, 'build');
  assert.equal(existsSync(learnedOf(other)), false);
  // By default only `serve` (the last word of the command line) learns, and only it reads what was learned.
  assert.equal(load(other, 'default', 'delete').cache, 'build');
  assert.equal(existsSync(learnedOf(other)), false);
  assert.equal(load(other, 'default', 'serve').cache, 'build');
  assert.ok(existsSync(learnedOf(other)));
  assert.equal(load(other, 'default', 'serve').cache, 'learned');
  assert.equal(load(other, 'default', 'delete').cache, 'build');
  assert.equal(load(other, false).cache, 'build');
});

test('a learned cache made for another bundle is not used, even one of the same length', () => {
  const file = makeBundle('stale', true);
  load(file);
  const old = readFileSync(learnedOf(file));
  // Rebuilt in place with other code of the same length (V8 itself checks only the length), its build-time
  // cache with it; the old learned cache is still there.
  const source = bundleSource(true, 'b');
  assert.equal(source.length, readFileSync(file, 'latin1').length);
  writeBundle(file, source);
  assert.equal(load(file).cache, 'build');
  assert.notDeepEqual(readFileSync(learnedOf(file)), old, 'the stale learned cache was kept');
  assert.equal(load(file).cache, 'learned');
});

test('a learned cache V8 rejects is removed and the build-time cache used; the daemon then learns anew', () => {
  const file = makeBundle('rejected', true);
  load(file);
  const head = readFileSync(learnedOf(file), 'latin1').split('\n')[0] ?? '';
  writeFileSync(learnedOf(file), Buffer.concat([Buffer.from(`${head}\n`, 'latin1'), Buffer.alloc(4096, 0x5a)]));
  const r = load(file);
  assert.deepEqual(r, { cache: 'build', rejected: false, work: r.work });
  assert.equal(load(file).cache, 'learned');
});

test('no cache V8 takes (another Node or flags): nothing is learned', () => {
  const file = makeBundle('no-cache', true);
  rmSync(`${file}.cache`);
  assert.equal(load(file).cache, 'none');
  assert.equal(existsSync(learnedOf(file)), false);
});

test('a daemon that writes the learned cache removes what writers killed mid-write left, not what a live one writes', () => {
  const file = makeBundle('stale-temps', true);
  const dead = spawnSync('true').pid;
  assert.ok(dead !== undefined && dead > 0);
  const deadTmp = `${learnedOf(file)}.${dead}.tmp`;
  const liveTmp = `${learnedOf(file)}.${process.pid}.tmp`;
  const other = join(dirname(file), 'bundle.cjs.cache.other.1.tmp');
  for (const f of [deadTmp, liveTmp, other]) writeFileSync(f, 'partial');
  assert.equal(load(file).cache, 'build');
  assert.ok(existsSync(learnedOf(file)));
  assert.equal(existsSync(deadTmp), false, 'the dead writer\'s temporary file was kept');
  assert.ok(existsSync(liveTmp), 'a live writer\'s temporary file was removed');
  assert.ok(existsSync(other), 'a file of another name was removed');
  rmSync(liveTmp);
  rmSync(other);
});

test('where the learned cache cannot be written, the daemon exits as usual and leaves nothing behind', () => {
  const file = makeBundle('unwritable', true);
  // A directory where the learned cache would go: the rename fails.
  mkdirSync(learnedOf(file));
  assert.equal(load(file).cache, 'build');
  assert.deepEqual(leftovers(file), []);
});

test('the real bundle exports hasReleasedTask, false until a task is released', () => {
  const { loadCached } = createRequire(import.meta.url)(LOADER) as {
    loadCached(f: string): { exports: Record<string, unknown>; cache: string };
  };
  const { exports, cache } = loadCached(join(DIR, 'containerd-shim-lcow-v1.cjs'));
  assert.equal(cache, 'build');
  assert.equal(typeof exports['hasReleasedTask'], 'function');
  assert.equal((exports['hasReleasedTask'] as () => boolean)(), false);
});
