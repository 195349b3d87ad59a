/**
 * The image rootfs of an LCOW container as containerd's `windows-lcow` snapshotter hands it over
 * (hcsshim internal/layers ParseLCOWLayers):
 *   lcow-layer              source = the scratch folder (sandbox.vhdx); option `parentLayerPaths=<JSON
 *                           array>` = read-only layer folders, top-most first, each with layer.vhd
 *   lcow-partitioned-layer  options `scratch=<sandbox.vhdx>` and `parent-partitioned-layers=<JSON array of
 *                           {Path, Partition}>` (layer files with a partition number)
 *   spec.windows.layerFolders  [layer folders top-most first…, scratch folder] (the legacy form)
 * Either one rootfs mount or the layer folders, never both. Every path must be absolute and every file
 * must exist; anything malformed is InvalidArgument naming what was wrong. Other rootfs mounts are not
 * LCOW layers (undefined): the caller mounts them on the host as before.
 */
import { stat } from '../../async/index.js';
import { posix, win32 } from 'node:path';
import { ignoreAbsent, invalidArgument } from '../../errdefs/index.js';
import type { LcowLayers } from '../../sandbox/index.js';
import type { Mount } from '../task/types.js';

export const LCOW_LAYER = 'lcow-layer';
export const LCOW_PARTITIONED_LAYER = 'lcow-partitioned-layer';
const PARENT_LAYER_PATHS = 'parentLayerPaths=';

const isWin = (p: string): boolean => /^[A-Za-z]:[\\/]/.test(p) || p.startsWith('\\\\');
const isAbs = (p: string): boolean => isWin(p) || posix.isAbsolute(p);
const joinPath = (dir: string, name: string): string => (isWin(dir) ? win32.join(dir, name) : posix.join(dir, name));

function absolute(p: unknown, what: string): string {
  if (typeof p !== 'string' || p === '') throw invalidArgument(`${what}: a path is required`);
  if (p.includes('\0')) throw invalidArgument(`${what}: path contains a NUL byte`);
  if (!isAbs(p)) throw invalidArgument(`${what}: path ${JSON.stringify(p)} is not absolute`);
  return p;
}

function jsonArray(text: string, what: string): unknown[] {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw invalidArgument(`${what} is not valid JSON: ${(err as Error).message}`, err);
  }
  if (!Array.isArray(v)) throw invalidArgument(`${what} must be a JSON array`);
  return v;
}

function fromFolders(scratchFolder: string, parents: readonly unknown[], what: string): LcowLayers {
  if (parents.length === 0) throw invalidArgument(`${what}: at least one read-only layer is required`);
  const layers = parents.map((p, i) => ({ vhdPath: joinPath(absolute(p, `${what}[${i}]`), 'layer.vhd'), partition: 0 }));
  return { layers, scratchVhdPath: joinPath(absolute(scratchFolder, `${what}: scratch folder`), 'sandbox.vhdx') };
}

function parseMount(m: Mount): LcowLayers {
  if (m.target !== '') throw invalidArgument(`${m.type} rootfs mount must not have a target (got ${JSON.stringify(m.target)})`);
  if (m.type === LCOW_LAYER) {
    const opts = m.options.filter((o) => o.startsWith(PARENT_LAYER_PATHS));
    if (opts.length !== 1) throw invalidArgument(`${LCOW_LAYER} mount needs exactly one ${PARENT_LAYER_PATHS}<JSON array> option`);
    const parents = jsonArray(opts[0]!.slice(PARENT_LAYER_PATHS.length), `${LCOW_LAYER} option parentLayerPaths`);
    return fromFolders(m.source, parents, `${LCOW_LAYER} parentLayerPaths`);
  }
  let scratch: string | undefined;
  let data: unknown[] | undefined;
  for (const o of m.options) {
    if (o.startsWith('scratch=')) scratch = o.slice('scratch='.length);
    else if (o.startsWith('parent-partitioned-layers=')) data = jsonArray(o.slice('parent-partitioned-layers='.length), `${LCOW_PARTITIONED_LAYER} option parent-partitioned-layers`);
    else throw invalidArgument(`unrecognized ${LCOW_PARTITIONED_LAYER} mount option: ${o}`);
  }
  if (!data || data.length === 0) throw invalidArgument(`${LCOW_PARTITIONED_LAYER} mount needs parent-partitioned-layers with at least one layer`);
  const layers = data.map((l, i) => {
    const what = `${LCOW_PARTITIONED_LAYER} layer ${i}`;
    if (typeof l !== 'object' || l === null) throw invalidArgument(`${what} must be an object {Path, Partition}`);
    const { Path, Partition } = l as { Path?: unknown; Partition?: unknown };
    const partition = Partition ?? 0;
    if (typeof partition !== 'number' || !Number.isSafeInteger(partition) || partition < 0) throw invalidArgument(`${what}: Partition must be a non-negative integer`);
    return { vhdPath: absolute(Path, `${what} Path`), partition };
  });
  return { layers, scratchVhdPath: absolute(scratch, `${LCOW_PARTITIONED_LAYER} option scratch`) };
}

async function mustBeFile(path: string, what: string): Promise<void> {
  const st = await stat(path).catch(ignoreAbsent);
  if (st === undefined) throw invalidArgument(`${what} ${path} does not exist`);
  if (!st.isFile()) throw invalidArgument(`${what} ${path} is not a file`);
}

/** True when the rootfs is LCOW layers (a mount of an lcow type, or layer folders in the spec). */
export function isLcowRootfs(rootfs: readonly Mount[], layerFolders: unknown): boolean {
  return rootfs.some((m) => m.type === LCOW_LAYER || m.type === LCOW_PARTITIONED_LAYER) || (Array.isArray(layerFolders) && layerFolders.length > 0);
}

/** Parses and checks the LCOW layers of a Create (call only when isLcowRootfs). */
export async function parseLcowLayers(rootfs: readonly Mount[], layerFolders: unknown): Promise<LcowLayers> {
  const folders = Array.isArray(layerFolders) ? layerFolders : [];
  if (layerFolders !== undefined && layerFolders !== null && !Array.isArray(layerFolders)) throw invalidArgument('windows.layerFolders must be an array');
  if (rootfs.length > 0 && folders.length > 0) throw invalidArgument('cannot pass both a rootfs mount and windows.layerFolders');
  let layers: LcowLayers;
  if (folders.length > 0) {
    if (folders.length < 2) throw invalidArgument('windows.layerFolders needs at least two folders (layers…, scratch)');
    layers = fromFolders(folders[folders.length - 1] as string, folders.slice(0, -1), 'windows.layerFolders');
  } else {
    if (rootfs.length !== 1) throw invalidArgument(`expected a single ${rootfs[0]?.type ?? 'lcow'} rootfs mount, got ${rootfs.length}`);
    layers = parseMount(rootfs[0]!);
  }
  for (const l of layers.layers) await mustBeFile(l.vhdPath, 'layer');
  await mustBeFile(layers.scratchVhdPath, 'scratch disk (create it with `containerd-shim-lcow-v1 create-scratch`)');
  return layers;
}
