/**
 * The shim's CommonJS bundle (scripts/build-steps/30-code-cache.mjs), which the daemon keeps as its source for
 * its whole life: minified, ASCII, stored already wrapped as Node's CommonJS function and compiled as read.
 * Checked on the build the suite runs (dist/, or env LCOW_SHIM_BIN's directory).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';

const BIN = resolve(process.env.LCOW_SHIM_BIN ?? 'dist/bin/containerd-shim-lcow-v1');
const DIR = dirname(BIN);
const BUNDLE = join(DIR, 'containerd-shim-lcow-v1.cjs');
const WRAP_HEAD = '(function (exports, require, module, __filename, __dirname) { ';

test('the bundle is ASCII, minified, and stored wrapped as the CommonJS function', () => {
  const source = readFileSync(BUNDLE, 'latin1');
  assert.ok(source.startsWith(WRAP_HEAD), source.slice(0, 80));
  assert.ok(source.trimEnd().endsWith('\n})'), JSON.stringify(source.slice(-20)));
  assert.ok(!/[^\x00-\x7f]/.test(source), 'non-ASCII character in the bundle');
  // Whitespace-minified: a few hundred lines (multi-line template strings) where the unminified bundle has
  // one line per statement (34k lines for 1.3 MB).
  const lines = source.split('\n').length;
  assert.ok(lines < 1000, `${lines} lines`);
  // Identifiers are kept, so stack traces name our functions.
  assert.match(source, /\bfunction logrusLine\(/);
});

test('loadCached compiles the file as read and runs it as a module: main and warm are exported', () => {
  const { loadCached } = createRequire(import.meta.url)(join(DIR, 'code-cache.cjs')) as {
    loadCached(f: string): { exports: Record<string, unknown>; script: { cachedDataRejected?: boolean } };
  };
  const { exports, script } = loadCached(BUNDLE);
  assert.equal(typeof exports['main'], 'function');
  assert.equal(typeof exports['warm'], 'function');
  // The cache was made from these very bytes (a second, re-wrapped string would not match it).
  assert.equal(script.cachedDataRejected, false);
});

test('yargs is a file of its own that the bundle requires only for command lines that are not containerd\'s', () => {
  const source = readFileSync(BUNDLE, 'latin1');
  // None of yargs' code is in the bundle the daemon keeps (its usage renderer and parser are)…
  assert.doesNotMatch(source, /\bfunction YargsFactory\(|class YargsInstance\b|\bfunction tokenizeArgString\(/);
  assert.match(source, /require\("\.\/yargs\.cjs"\)/);
  const yargsFile = readFileSync(join(DIR, 'yargs.cjs'), 'latin1');
  assert.match(yargsFile, /\bfunction YargsFactory\(/);
  // …and the executable still parses with it: help, and an unknown argument refused by name.
  const help = spawnSync(BIN, ['--help'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /Usage: containerd-shim-lcow-v1 /);
  const bad = spawnSync(BIN, ['--bogus-flag'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /Unknown argument: bogus-flag/);
});
