import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { GuestError, rewriteSpec, VmPaths, writeBundle } from '../../src/guest/index.js';
import { cleanupVmDir, tempDir } from './support/fixtures.js';

const paths = new VmPaths('/vm/d1');
const base = (): Record<string, unknown> => ({
  ociVersion: '1.0.2',
  process: { args: ['sh'], cwd: '/work', terminal: false },
  root: { path: '/run/gcs/c/c1/rootfs' },
  mounts: [
    { destination: '/proc', type: 'proc', source: 'proc' },
    { destination: '/etc/hosts', type: 'bind', source: '/run/gcs/c/sandbox/hosts', options: ['rbind', 'ro'] },
    { destination: '/data', source: '/run/gcs/c/c1/data', options: ['bind'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid'] },
    { destination: '/rel', type: 'bind', source: 'relative' },
  ],
  windows: { layerFolders: ['C:\\x'] },
  linux: {
    cgroupsPath: '/host/chosen',
    namespaces: [{ type: 'pid' }, { type: 'network', path: '/proc/123/ns/net' }, { type: 'ipc', path: '/run/ns/ipc' }],
  },
});

describe('bundle rewriting', () => {
  it('rewrites guest paths to real paths under <vmDir>/rootfs', () => {
    const out = rewriteSpec(base(), paths, 'c1') as Record<string, any>;
    assert.equal(out.root.path, '/vm/d1/rootfs/run/gcs/c/c1/rootfs');
    assert.equal(out.mounts[0].source, 'proc');
    assert.equal(out.mounts[1].source, '/vm/d1/rootfs/run/gcs/c/sandbox/hosts');
    assert.equal(out.mounts[2].source, '/vm/d1/rootfs/run/gcs/c/c1/data');
    assert.equal(out.mounts[3].source, 'shm');
    assert.equal(out.mounts[4].source, 'relative');
    assert.equal(out.process.cwd, '/work'); // inside the container: untouched
  });

  it('keeps /proc namespace paths (guest pids are host pids) and maps the others', () => {
    const out = rewriteSpec(base(), paths, 'c1') as Record<string, any>;
    assert.deepEqual(out.linux.namespaces, [
      { type: 'pid' },
      { type: 'network', path: '/proc/123/ns/net' },
      { type: 'ipc', path: '/vm/d1/rootfs/run/ns/ipc' },
    ]);
  });

  it('drops the Windows section and puts the cgroup under the VM', () => {
    const out = rewriteSpec(base(), paths, 'c1');
    assert.equal(out['windows'], undefined);
    assert.equal((out['linux'] as Record<string, unknown>)['cgroupsPath'], '/lcow/d1/c1');
  });

  it('never mutates its input', () => {
    const spec = base();
    const before = JSON.stringify(spec);
    rewriteSpec(spec, paths, 'c1');
    assert.equal(JSON.stringify(spec), before);
  });

  it('accepts hooks: null (Go reads it as nil)', () => {
    assert.equal(rewriteSpec({ ...base(), hooks: null }, paths, 'c1')['hooks'], null);
  });

  it('keeps a relative root path (relative to the bundle)', () => {
    const spec = { ...base(), root: { path: 'rootfs' } };
    assert.equal((rewriteSpec(spec, paths, 'c1')['root'] as Record<string, unknown>)['path'], 'rootfs');
  });

  const invalid: [string, (s: Record<string, any>) => unknown][] = [
    ['not an object', () => 'spec'],
    ['no root', (s) => ({ ...s, root: undefined })],
    ['root escaping with ..', (s) => ({ ...s, root: { path: '/run/../../etc' } })],
    ['relative root escaping with ..', (s) => ({ ...s, root: { path: '../../etc' } })],
    ['bind source escaping', (s) => ({ ...s, mounts: [{ destination: '/x', type: 'bind', source: '/a/../../etc' }] })],
    ['mounts not an array', (s) => ({ ...s, mounts: {} })],
    ['a mount that is not an object', (s) => ({ ...s, mounts: [7] })],
    ['hooks (the host must drop them, as Microsoft GCS requires)', (s) => ({ ...s, hooks: { prestart: [{ path: '/bin/evil' }] } })],
    ['an empty hooks object', (s) => ({ ...s, hooks: {} })],
  ];
  for (const [name, mk] of invalid) {
    it(`rejects a spec with ${name} (E_INVALIDARG)`, () => {
      assert.throws(() => rewriteSpec(mk(base()), paths, 'c1'), (e) => e instanceof GuestError && e.hresult === 0x80070057);
    });
  }
});

describe('bundle writing', () => {
  it('writes config.json as the real GCS (Go json.Encoder: compact, one newline), mode 0600, in a new 0700 dir', () => {
    const dir = tempDir();
    try {
      const spec = rewriteSpec(base(), paths, 'c1');
      const file = writeBundle(join(dir, 'run/gcs/c/c1'), spec);
      assert.equal(file, join(dir, 'run/gcs/c/c1/config.json'));
      assert.equal(readFileSync(file, 'utf8'), JSON.stringify(spec) + '\n');
      assert.equal(statSync(file).mode & 0o777, 0o600);
      assert.equal(statSync(join(dir, 'run/gcs/c/c1')).mode & 0o777, 0o700);
    } finally {
      cleanupVmDir(dir);
    }
  });
});
