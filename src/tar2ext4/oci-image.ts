/**
 * An OCI image archive (an OCI layout tar, as `ctr images export` writes) → LCOW layer folders, one per
 * layer: `<out>/<diff digest hex>/layer.vhd` (layer-image.ts). The manifest is the index's only one, or
 * the one for linux/<arch> (nested indexes followed), or the one whose `io.containerd.image.name` /
 * `org.opencontainers.image.ref.name` annotation equals `ref`. Returns the folders top-most first (the
 * order of the lcow-layer mount's parentLayerPaths) and the image config.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { arch } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ignoreAbsent } from '../errdefs/index.js';
import { layerTarToVhd } from './layer-image.js';

const run = promisify(execFile);

interface Descriptor {
  mediaType?: string;
  digest: string;
  platform?: { os?: string; architecture?: string };
  annotations?: Record<string, string>;
}

export interface LcowImage {
  /** Layer folders, top-most first. */
  readonly layerFolders: string[];
  /** The image config's `config` (Env, Cmd, Entrypoint, WorkingDir, User). */
  readonly config: Record<string, unknown>;
}

const goArch = (): string => ({ x64: 'amd64', arm64: 'arm64' } as Record<string, string>)[arch()] ?? arch();

function blobPath(layout: string, digest: string): string {
  const m = /^sha256:([0-9a-f]{64})$/.exec(digest);
  if (!m) throw new Error(`unsupported digest ${JSON.stringify(digest)}`);
  return join(layout, 'blobs', 'sha256', m[1]!);
}

async function json<T>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, 'utf8')) as T;
}

function pick(manifests: Descriptor[], ref: string | undefined): Descriptor {
  const named = ref ? manifests.filter((d) => d.annotations?.['io.containerd.image.name'] === ref || d.annotations?.['org.opencontainers.image.ref.name'] === ref) : manifests;
  const linux = named.filter((d) => !d.platform || (d.platform.os === 'linux' && d.platform.architecture === goArch()));
  const d = linux[0] ?? (named.length === 1 ? named[0] : undefined);
  if (!d) throw new Error(`no manifest for ${ref ?? 'linux/' + goArch()} in the image index`);
  return d;
}

async function manifestOf(layout: string, d: Descriptor, ref: string | undefined): Promise<{ layers: Descriptor[]; config: Descriptor }> {
  const doc = await json<{ mediaType?: string; manifests?: Descriptor[]; layers?: Descriptor[]; config?: Descriptor }>(blobPath(layout, d.digest));
  if (Array.isArray(doc.manifests)) return manifestOf(layout, pick(doc.manifests, undefined), ref);
  if (!Array.isArray(doc.layers) || !doc.config) throw new Error(`${d.digest} is not an image manifest`);
  return { layers: doc.layers, config: doc.config };
}

export async function ociImageToLcowLayers(imageTar: string, outDir: string, ref?: string): Promise<LcowImage> {
  const work = await mkdtemp(join(outDir, '.work-'));
  try {
    const layout = join(work, 'oci');
    await mkdir(layout);
    await run('tar', ['-xf', imageTar, '-C', layout], { timeout: 600_000 });
    const index = await json<{ manifests?: Descriptor[] }>(join(layout, 'index.json'));
    const manifest = await manifestOf(layout, pick(index.manifests ?? [], ref), ref);
    const config = await json<{ config?: Record<string, unknown>; rootfs?: { diff_ids?: string[] } }>(blobPath(layout, manifest.config.digest));
    const diffIds = config.rootfs?.diff_ids ?? [];
    const folders: string[] = [];
    for (const [i, layer] of manifest.layers.entries()) {
      const id = (diffIds[i] ?? layer.digest).replace(/^sha256:/, '');
      const folder = join(outDir, id);
      const vhd = join(folder, 'layer.vhd');
      if (!(await stat(vhd).catch(ignoreAbsent))) {
        await mkdir(folder, { recursive: true });
        await layerTarToVhd(blobPath(layout, layer.digest), `${vhd}.tmp`, work);
        await run('mv', [`${vhd}.tmp`, vhd]);
      }
      folders.unshift(folder);
    }
    return { layerFolders: folders, config: config.config ?? {} };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
