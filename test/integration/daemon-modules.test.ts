/**
 * What the real `serve` daemon loads of Node, through real containerds: a container's whole life (Create with
 * its random ids and the VM's 512 bytes of entropy, Start, Stats with the guest's uint64 figures, exec, kill,
 * Delete, the daemon's exit) must not load node:crypto, whose ~20 modules and OpenSSL's initialisation cost the
 * daemon ~0.64 MB of RSS for as long as its container lives (src/random reads /dev/urandom instead), nor
 * perf_hooks (0.3 MB; the emulator's timings use process.uptime()), nor node:fs/promises (~0.45 MB with the
 * readline modules it loads; src/async/fs.ts). A
 * `--require` probe in NODE_OPTIONS (which the shim's executable passes to Node, and which changes no V8 flag,
 * so the code cache is still taken) writes each `serve` process's `process.moduleLoadList` when it exits.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CONTAINERDS, NEEDS_ROOT, PrivateContainerd, waitForStatus } from './harness.js';

interface ServeModules { argv: string[]; modules: string[] }

for (const under of CONTAINERDS) describe(`the serve daemon loads no node:crypto, no perf_hooks, no node:fs/promises [${under.label}]`, { skip: NEEDS_ROOT, timeout: 300_000 }, () => {
  const ctd = new PrivateContainerd(under);
  const probeDir = mkdtempSync(join(tmpdir(), 'daemon-modules.'));
  const probe = join(probeDir, 'probe.cjs');
  writeFileSync(probe, [
    "if (process.argv.includes('serve')) {",
    "  process.on('exit', () => require('node:fs').writeFileSync(",
    `    ${JSON.stringify(probeDir)} + '/serve-' + process.pid + '.json',`,
    '    JSON.stringify({ argv: process.argv, modules: process.moduleLoadList })));',
    '}',
    '',
  ].join('\n'));
  before(() => ctd.start({ NODE_OPTIONS: `--require ${probe}` }));
  after(async () => {
    await ctd.stop();
    rmSync(probeDir, { recursive: true, force: true });
  });
  afterEach(async () => assert.deepEqual(await ctd.settled(), []));

  const serveLists = (id: string): ServeModules[] => readdirSync(probeDir).filter((f) => f.startsWith('serve-'))
    .map((f) => JSON.parse(readFileSync(join(probeDir, f), 'utf8')) as ServeModules)
    .filter((s) => s.argv.includes(id));

  test('a container run, its stats, an exec and its kill: the daemon never loads node:crypto, perf_hooks or node:fs/promises', async () => {
    const id = 't-modules';
    const runner = ctd.run(id, ['/bin/sh', '-c', 'sleep 300']);
    let killed = false;
    try {
      await waitForStatus(ctd, id, 'RUNNING');
      ctd.assertOk(await ctd.ctr(['task', 'metrics', id]), 'ctr task metrics');
      const ex = await ctd.ctr(['task', 'exec', '--exec-id', 'e1', id, '/bin/echo', 'exec ok']);
      ctd.assertOk(ex, 'ctr task exec');
      assert.equal(ex.stdout, 'exec ok\n');
      ctd.assertOk(await ctd.ctr(['task', 'kill', '-s', 'SIGKILL', id]), 'ctr task kill');
      killed = true;
      assert.equal((await runner).code, 137);
    } finally {
      if (!killed) {
        await ctd.ctr(['task', 'kill', '-s', 'SIGKILL', id]);
        await runner;
      }
    }
    // `ctr run --rm` returns once the task is deleted; the daemon exits on its own right after.
    let lists: ServeModules[] = [];
    for (let i = 0; i < 100 && lists.length === 0; i++, await sleep(50)) lists = serveLists(id);
    assert.equal(lists.length, 1, `one serve daemon for ${id} wrote its module list`);
    const { modules } = lists[0]!;
    // The probe saw the daemon at work: its socket, the guest agent's spawn and the emulator's files.
    for (const m of ['NativeModule net', 'NativeModule child_process']) assert.ok(modules.includes(m), `${m} loaded`);
    // Nor node:fs/promises (src/async/fs.ts: its readline modules cost ~0.45 MB).
    assert.deepEqual(modules.filter((m) => /fs\/promises|readline/.test(m)), []);
    assert.deepEqual(modules.filter((m) => /crypto/.test(m)), []);
    // Nor perf_hooks (the global `performance` loads it and seven internal modules: +0.3 MB).
    assert.deepEqual(modules.filter((m) => /perf_hooks|internal\/perf\/performance$/.test(m)), []);
  });
});
