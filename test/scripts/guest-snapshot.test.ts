/**
 * The build step of the guest agent's start-up snapshot (scripts/build-steps/40-guest-snapshot.mjs): the build's
 * blob and record (dist/bin), and the snapshot entry's guards, each snapshot made by a fresh `node
 * --build-snapshot` as the build does: a top level that reads the environment, a file (random bytes), the pid
 * or the clock fails the build; child_process is loaded only when first used, after deserialization, and Node
 * warns about nothing; the blob holds nothing of the build's environment.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, test } from 'node:test';

const BIN = resolve('dist/bin');
const STEP = pathToFileURL(resolve('scripts/build-steps/40-guest-snapshot.mjs')).href;
const tmp = mkdtempSync(join(tmpdir(), 'lcow-guest-snapshot-test-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

interface Step {
  bundleEntry(entryJs: string, outFile: string, absWorkingDir: string): Promise<void>;
  buildSnapshot(entryFile: string, blob: string, cwd: string): void;
  GUEST_SNAPSHOT_FORMAT: string;
}
const step = async (): Promise<Step> => (await import(STEP)) as Step;

/** Bundles `source` as the build bundles the agent's snapshot entry and makes its blob; returns the blob's path. */
async function snapshotOf(name: string, source: string): Promise<string> {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'entry.js'), source);
  const { bundleEntry, buildSnapshot } = await step();
  await bundleEntry(join(dir, 'entry.js'), join(dir, 'entry.cjs'), dir);
  buildSnapshot(join(dir, 'entry.cjs'), join(dir, 'blob'), dir);
  return join(dir, 'blob');
}

const main = (body: string): string => `require('node:v8').startupSnapshot.setDeserializeMainFunction(() => { ${body} });\n`;

test('the build made the blob and a record naming this node, the blob and the bundle', async () => {
  const rec = JSON.parse(readFileSync(join(BIN, 'lcow-guest.cjs.snapshot.json'), 'utf8')) as Record<string, Record<string, unknown>>;
  assert.equal(rec['format'] as unknown, (await step()).GUEST_SNAPSHOT_FORMAT);
  const node = statSync(process.execPath);
  assert.deepEqual(rec['node'], { version: process.version, execPath: process.execPath, size: node.size, mtimeMs: node.mtimeMs, ino: node.ino });
  for (const [key, file] of [['blob', 'lcow-guest.cjs.snapshot'], ['entry', 'lcow-guest.cjs']] as const) {
    const st = statSync(join(BIN, file));
    assert.deepEqual(rec[key], { size: st.size, mtimeMs: st.mtimeMs }, key);
  }
  // The blob runs the agent: no arguments is its usage error (status 2), as the plain bundle's.
  for (const args of [['--snapshot-blob', join(BIN, 'lcow-guest.cjs.snapshot'), '--no-warnings', join(BIN, 'lcow-guest.cjs')], ['--no-warnings', join(BIN, 'lcow-guest.cjs')]]) {
    const r = spawnSync(process.execPath, args, { encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '' } });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /^gcs: -v4 is required/);
  }
});

const reads: [string, string][] = [
  ['the environment', "const dir = process.env.LCOW_GUEST_VM_DIR;"],
  ['random bytes (a file)', "const fs = require('node:fs'); const fd = fs.openSync('/dev/urandom', 'r');"],
  ['a file read whole', "const x = require('node:fs').readFileSync('/etc/hostname');"],
  ['the pid', 'const me = process.pid;'],
  ['the clock', 'const t0 = Date.now();'],
  ['Math.random', 'const r = Math.random();'],
  ['the cwd', 'const here = process.cwd();'],
];
for (const [what, code] of reads) {
  test(`a top level that reads ${what} at build time fails the build`, async () => {
    await assert.rejects(snapshotOf(`reads-${what.replace(/\W+/g, '-')}`, `${code}\n${main('')}`), /lcow guest snapshot: .* read while the bundle is evaluated at build time/);
  });
}

test('child_process is loaded on first use in the deserialized process (Node 20 does not support it in a snapshot); no warning', async () => {
  const blob = await snapshotOf('lazy', [
    "import { execFileSync } from 'node:child_process';",
    "import { startupSnapshot } from 'node:v8';",
    'startupSnapshot.setDeserializeMainFunction(() => {',
    "  const before = process.moduleLoadList.includes('NativeModule child_process');",
    "  const out = execFileSync('/bin/echo', ['ran']).toString().trim();",
    "  process.stdout.write(JSON.stringify({ before, out, after: process.moduleLoadList.includes('NativeModule child_process') }));",
    '});',
  ].join('\n'));
  const r = spawnSync(process.execPath, ['--snapshot-blob', blob, 'x'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.deepEqual(JSON.parse(r.stdout), { before: false, out: 'ran', after: true });
});

test('the agent\'s blob holds nothing of the build\'s environment or directory', async () => {
  const marker = `lcow-snapshot-marker-${randomBytes(8).toString('hex')}`;
  const saved = process.env['LCOW_GUEST_VM_DIR'];
  process.env['LCOW_GUEST_VM_DIR'] = `/${marker}-env`;
  try {
    const dir = join(tmp, `${marker}-cwd`);
    mkdirSync(dir);
    const { bundleEntry, buildSnapshot } = await step();
    await bundleEntry(resolve('dist/src/guest/snapshot-main.js'), join(tmp, 'agent-entry.cjs'), resolve('dist'));
    buildSnapshot(join(tmp, 'agent-entry.cjs'), join(tmp, 'agent.blob'), dir);
    const bytes = readFileSync(join(tmp, 'agent.blob'));
    assert.equal(bytes.includes(`${marker}-env`), false, 'the build\'s LCOW_GUEST_VM_DIR is not in the blob');
    assert.equal(bytes.includes(`${marker}-cwd`), false, 'the build\'s cwd is not in the blob');
  } finally {
    if (saved === undefined) delete process.env['LCOW_GUEST_VM_DIR'];
    else process.env['LCOW_GUEST_VM_DIR'] = saved;
  }
});
