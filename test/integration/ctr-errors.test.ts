/**
 * Bad input through a real containerd: each a clear error returned to ctr, and nothing left running.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { CONTAINERDS, NEEDS_ROOT, RUNTIME, usePrivateContainerd } from './harness.js';

for (const under of CONTAINERDS) describe(`bad input through io.containerd.lcow.v1 [${under.label}]`, { skip: NEEDS_ROOT, timeout: 300_000 }, () => {
  const ctd = usePrivateContainerd((c) => c.ctr(['container', 'rm', 'bad']), under);

  test('a config.json without a linux section', async () => {
    const spec = {
      ociVersion: '1.0.2',
      process: { args: ['/bin/true'], cwd: '/', user: { uid: 0, gid: 0 } },
      root: { path: ctd.rootfs },
      windows: { layerFolders: [] },
    };
    const path = join(ctd.tmp, 'no-linux.json');
    writeFileSync(path, JSON.stringify(spec));
    const r = await ctd.ctr(['run', '--rm', '--runtime', RUNTIME, '--config', path, 'bad']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /no linux section/);
  });

  test('an unknown runtime option type', async () => {
    const path = join(ctd.tmp, 'runtime.toml');
    writeFileSync(path, '');
    const r = await ctd.run('bad', ['/bin/true'], ['--runtime-config-path', path]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /unsupported runtime options type 'runtimeoptions\.v1\.Options'/);
  });

  test('a bad annotation value', async () => {
    const r = await ctd.run('bad', ['/bin/true'], ['--annotation', 'io.microsoft.virtualmachine.computetopology.memory.sizeinmb=lots']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /io\.microsoft\.virtualmachine\.computetopology\.memory\.sizeinmb: 'lots' is not a non-negative integer/);
  });

  test('a rootfs that does not exist', async () => {
    const r = await ctd.ctr(['run', '--rm', '--runtime', RUNTIME, '--rootfs', join(ctd.tmp, 'missing'), 'bad', '/bin/true']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /rootfs '.*missing' does not exist/);
  });

  test('a process that cannot be started', async () => {
    const r = await ctd.run('bad', ['/no/such/binary']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr + r.stdout, /no\/such\/binary|not found|no such file/i);
  });
});
