import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { RECLAIM_ADDON, decodeReclaimBits, loadReclaimer, reclaimAddonCandidates } from '../../src/reclaim/index.js';

const tmp = mkdtempSync(join(tmpdir(), 'native-reclaim.'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('reclaim: the addon\'s bit set', () => {
  it('decodes 0..7: 1 = V8\'s low-memory GC ran, 2 = malloc_trim ran, 4 = it released memory', () => {
    assert.deepEqual(decodeReclaimBits(0), { v8: false, mallocTrim: false, mallocReleased: false });
    assert.deepEqual(decodeReclaimBits(1), { v8: true, mallocTrim: false, mallocReleased: false });
    assert.deepEqual(decodeReclaimBits(2), { v8: false, mallocTrim: true, mallocReleased: false });
    assert.deepEqual(decodeReclaimBits(3), { v8: true, mallocTrim: true, mallocReleased: false });
    assert.deepEqual(decodeReclaimBits(6), { v8: false, mallocTrim: true, mallocReleased: true });
    assert.deepEqual(decodeReclaimBits(7), { v8: true, mallocTrim: true, mallocReleased: true });
  });

  it('anything else is a TypeError naming what came back', () => {
    for (const bad of [8, -1, 1.5, Number.NaN, '1', undefined, null]) {
      assert.throws(() => decodeReclaimBits(bad), (err: Error) => err instanceof TypeError && err.message.includes(`returned ${String(bad)}, not a bit set 0..7`));
    }
  });
});

describe('reclaim: finding and loading the addon', () => {
  it('looks beside the bundle, then in bin/ two folders up (the unbundled tree, the ESM bundle\'s chunks)', () => {
    assert.deepEqual(reclaimAddonCandidates('file:///opt/lcow/bin/containerd-shim-lcow-v1.cjs'),
      [`/opt/lcow/bin/${RECLAIM_ADDON}`, `/opt/bin/${RECLAIM_ADDON}`]);
    assert.deepEqual(reclaimAddonCandidates('file:///w/dist/src/reclaim/native-reclaim.js'),
      [`/w/dist/src/reclaim/${RECLAIM_ADDON}`, `/w/dist/bin/${RECLAIM_ADDON}`]);
    assert.deepEqual(reclaimAddonCandidates('file:///opt/lcow/bin/chunks/serve-X.mjs'),
      [`/opt/lcow/bin/chunks/${RECLAIM_ADDON}`, `/opt/lcow/bin/${RECLAIM_ADDON}`]);
  });

  it('code without a file URL has no candidates, and loading then says so', () => {
    assert.deepEqual(reclaimAddonCandidates(''), []);
    assert.deepEqual(reclaimAddonCandidates('data:text/javascript,0'), []);
    const r = loadReclaimer([]);
    assert.ok(!r.available);
    assert.equal(r.reason, `no ${RECLAIM_ADDON} (the running code has no file path to look beside)`);
  });

  it('no file: unavailable, naming every place it looked', () => {
    const r = loadReclaimer([join(tmp, 'a', RECLAIM_ADDON), join(tmp, 'b', RECLAIM_ADDON)]);
    assert.equal(r.available, false);
    assert.ok(!r.available);
    assert.equal(r.reason, `no ${RECLAIM_ADDON} (looked for ${join(tmp, 'a', RECLAIM_ADDON)}, ${join(tmp, 'b', RECLAIM_ADDON)})`);
  });

  it('a file Node cannot load: unavailable with its path and the loader\'s message, no throw', () => {
    const junk = join(tmp, `junk-${RECLAIM_ADDON}`);
    writeFileSync(junk, 'not a shared object\n');
    const r = loadReclaimer([junk]);
    assert.ok(!r.available);
    assert.ok(r.reason.startsWith(`${junk}: `), r.reason);
    assert.match(r.reason, /invalid ELF header|file too short/);
  });

  it('an addon without reclaim(): unavailable, saying so', () => {
    const src = join(tmp, 'empty.c');
    writeFileSync(src, 'typedef void *napi_env, *napi_value;\nnapi_value napi_register_module_v1(napi_env env, napi_value exports) { (void)env; return exports; }\n');
    const so = join(tmp, 'empty.node');
    execFileSync('cc', ['-shared', '-fPIC', '-o', so, src]);
    const r = loadReclaimer([so]);
    assert.ok(!r.available);
    assert.equal(r.reason, `${so} exports no reclaim()`);
  });
});

describe('reclaim: the built addon in a real Node', () => {
  const built = reclaimAddonCandidates().find((p) => existsSync(p));

  it('the build made it (scripts/build-steps/15-reclaim-addon.mjs) where the daemon looks', () => {
    assert.ok(built, `no ${RECLAIM_ADDON} in ${reclaimAddonCandidates().join(', ')}`);
  });

  it('returns V8\'s garbage and malloc\'s free pages: anonymous RSS drops, the new space shrinks, live data is intact byte for byte', () => {
    assert.ok(built);
    const url = new URL('../../src/reclaim/index.js', import.meta.url).href;
    // 40 MB of short-lived objects (V8 grows its heap for them), a live 1 MiB buffer whose bytes are compared
    // after, then the reclaim; RssAnon from /proc, the new space from V8.
    const script = `
      const { readFileSync } = require('node:fs');
      const v8 = require('node:v8');
      const anon = () => Number(/RssAnon:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;
      const newSpace = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
      const live = Buffer.alloc(1 << 20); for (let i = 0; i < live.length; i++) live[i] = (i * 2654435761) >>> 24;
      const copy = Buffer.from(live);
      let keep = []; for (let i = 0; i < 400000; i++) { keep.push({ i, s: 'x' + i }); if (keep.length > 150000) keep = keep.slice(75000); }
      keep = null;
      import(${JSON.stringify(url)}).then(({ loadReclaimer }) => {
        const r = loadReclaimer();
        if (!r.available) throw new Error(r.reason);
        const before = { anon: anon(), newSpace: newSpace() };
        const result = r.reclaim();
        const after = { anon: anon(), newSpace: newSpace() };
        process.stdout.write(JSON.stringify({ result, before, after, intact: live.equals(copy) }));
      });`;
    const res = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(res.status, 0, res.stderr);
    const out = JSON.parse(res.stdout) as { result: unknown; before: { anon: number; newSpace: number }; after: { anon: number; newSpace: number }; intact: boolean };
    assert.deepEqual(out.result, { v8: true, mallocTrim: true, mallocReleased: out.result && (out.result as { mallocReleased: boolean }).mallocReleased });
    assert.equal(out.intact, true, 'the live buffer kept its bytes');
    assert.ok(out.before.anon - out.after.anon > 10 * 1024 * 1024, `RssAnon ${out.before.anon} -> ${out.after.anon}`);
    assert.ok(out.after.newSpace < out.before.newSpace, `new space ${out.before.newSpace} -> ${out.after.newSpace}`);
  });
});
