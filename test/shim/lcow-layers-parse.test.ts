/**
 * Parsing the image rootfs containerd's windows-lcow snapshotter sends (src/shim/create/lcow-layers.ts):
 * lcow-layer, lcow-partitioned-layer and spec.windows.layerFolders, and an InvalidArgument naming what is
 * wrong for everything malformed.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ErrorCode, ShimError } from '../../src/errdefs/index.js';
import { isLcowRootfs, parseLcowLayers } from '../../src/shim/create/lcow-layers.js';
import type { Mount } from '../../src/shim/task/types.js';

let dir: string;
let l1: string;
let l2: string;
let scratch: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lcow-parse-'));
  [l1, l2, scratch] = [join(dir, 'l1'), join(dir, 'l2'), join(dir, 'scratch')];
  for (const d of [l1, l2]) {
    await mkdir(d);
    await writeFile(join(d, 'layer.vhd'), 'x');
  }
  await mkdir(scratch);
  await writeFile(join(scratch, 'sandbox.vhdx'), 'x');
});
after(() => rm(dir, { recursive: true, force: true }));

const layer = (source: string, options: string[], target = ''): Mount => ({ type: 'lcow-layer', source, target, options });
const invalid = (re: RegExp) => (e: unknown): boolean => e instanceof ShimError && e.code === ErrorCode.InvalidArgument && re.test(e.message);

describe('LCOW layers from containerd', () => {
  it('recognises lcow mounts and layer folders only', () => {
    assert.equal(isLcowRootfs([{ type: 'overlay', source: 'overlay', target: '', options: [] }], undefined), false);
    assert.equal(isLcowRootfs([], undefined), false);
    assert.equal(isLcowRootfs([layer(scratch, [])], undefined), true);
    assert.equal(isLcowRootfs([], [l1, scratch]), true);
  });

  it('lcow-layer: parentLayerPaths top-most first → layer.vhd each; the source folder → sandbox.vhdx', async () => {
    const r = await parseLcowLayers([layer(scratch, ['rw', `parentLayerPaths=${JSON.stringify([l2, l1])}`])], undefined);
    assert.deepEqual(r, {
      layers: [{ vhdPath: join(l2, 'layer.vhd'), partition: 0 }, { vhdPath: join(l1, 'layer.vhd'), partition: 0 }],
      scratchVhdPath: join(scratch, 'sandbox.vhdx'),
    });
  });

  it('windows.layerFolders: layers…, scratch last', async () => {
    const r = await parseLcowLayers([], [l2, l1, scratch]);
    assert.deepEqual(r.layers.map((l) => l.vhdPath), [join(l2, 'layer.vhd'), join(l1, 'layer.vhd')]);
    assert.equal(r.scratchVhdPath, join(scratch, 'sandbox.vhdx'));
  });

  it('lcow-partitioned-layer: scratch= and parent-partitioned-layers= with partitions', async () => {
    const m: Mount = {
      type: 'lcow-partitioned-layer', source: '', target: '',
      options: [`scratch=${join(scratch, 'sandbox.vhdx')}`, `parent-partitioned-layers=${JSON.stringify([{ Path: join(l1, 'layer.vhd'), Partition: 2 }])}`],
    };
    assert.deepEqual(await parseLcowLayers([m], undefined), { layers: [{ vhdPath: join(l1, 'layer.vhd'), partition: 2 }], scratchVhdPath: join(scratch, 'sandbox.vhdx') });
    await assert.rejects(parseLcowLayers([{ ...m, options: [...m.options, 'bogus=1'] }], undefined), invalid(/unrecognized lcow-partitioned-layer mount option: bogus=1/));
    await assert.rejects(parseLcowLayers([{ ...m, options: [m.options[0]!, 'parent-partitioned-layers=[{"Path":"/x","Partition":-1}]'] }], undefined), invalid(/Partition/));
  });

  it('malformed input is InvalidArgument naming it', async () => {
    const cases: Array<[Mount[], unknown, RegExp]> = [
      [[layer(scratch, ['parentLayerPaths=[oops'])], undefined, /not valid JSON/],
      [[layer(scratch, ['parentLayerPaths={"a":1}'])], undefined, /must be a JSON array/],
      [[layer(scratch, [])], undefined, /exactly one parentLayerPaths=/],
      [[layer(scratch, ['parentLayerPaths=[]'])], undefined, /at least one read-only layer/],
      [[layer(scratch, ['parentLayerPaths=["rel/dir"]'])], undefined, /"rel\/dir" is not absolute/],
      [[layer('rel', [`parentLayerPaths=${JSON.stringify([l1])}`])], undefined, /not absolute/],
      [[layer(scratch, [`parentLayerPaths=${JSON.stringify([dir])}`])], undefined, /layer .*layer\.vhd does not exist/],
      [[layer(l1, [`parentLayerPaths=${JSON.stringify([l1])}`])], undefined, /sandbox\.vhdx does not exist/],
      [[layer(scratch, [`parentLayerPaths=${JSON.stringify([l1])}`], '/target')], undefined, /must not have a target/],
      [[layer(scratch, [`parentLayerPaths=${JSON.stringify([l1])}`])], [l1, scratch], /both a rootfs mount and windows\.layerFolders/],
      [[], [scratch], /at least two folders/],
      [[], 'x', /must be an array/],
    ];
    for (const [rootfs, folders, re] of cases) await assert.rejects(parseLcowLayers(rootfs, folders), invalid(re), re.source);
  });
});
