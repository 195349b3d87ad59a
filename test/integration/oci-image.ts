/** Builds an OCI image archive (an uncompressed single-layer image) from a rootfs dir, for `ctr image import`. */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** `config` is the image's runtime config (Cmd, Entrypoint, Env, …); default a shell. */
export function buildOciArchive(rootfs: string, workDir: string, name: string,
  config: Record<string, unknown> = { Cmd: ['/bin/sh'], Env: ['PATH=/bin'] }): string {
  const dir = join(workDir, 'oci');
  const blobs = join(dir, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const layerPath = join(workDir, 'layer.tar');
  execFileSync('tar', ['-C', rootfs, '-cf', layerPath, '.']);
  const layer = readFileSync(layerPath);
  const layerDigest = sha(layer);
  renameSync(layerPath, join(blobs, layerDigest));
  const imageConfig = Buffer.from(JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    config,
    rootfs: { type: 'layers', diff_ids: [`sha256:${layerDigest}`] },
  }));
  writeFileSync(join(blobs, sha(imageConfig)), imageConfig);
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${sha(imageConfig)}`, size: imageConfig.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: `sha256:${layerDigest}`, size: layer.length }],
  }));
  writeFileSync(join(blobs, sha(manifest)), manifest);
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(join(dir, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    manifests: [{
      mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${sha(manifest)}`, size: manifest.length,
      platform: { architecture: 'amd64', os: 'linux' },
      annotations: { 'io.containerd.image.name': name, 'org.opencontainers.image.ref.name': 'latest' },
    }],
  }));
  const archive = join(workDir, 'image.tar');
  execFileSync('tar', ['-C', dir, '-cf', archive, '.']);
  return archive;
}

/** An OCI image archive with one uncompressed layer per directory of `layerDirs` (bottom-most first). */
export function buildOciArchiveLayers(layerDirs: readonly string[], workDir: string, name: string): string {
  const dir = join(workDir, 'oci-layers');
  const blobs = join(dir, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const layers = layerDirs.map((d, i) => {
    const tarPath = join(workDir, `layer-${i}.tar`);
    execFileSync('tar', ['--xattrs', '-C', d, '-cf', tarPath, '.']);
    const data = readFileSync(tarPath);
    renameSync(tarPath, join(blobs, sha(data)));
    return { digest: `sha256:${sha(data)}`, size: data.length };
  });
  const config = Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux', config: { Cmd: ['/bin/sh'], Env: ['PATH=/bin'] },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
  }));
  writeFileSync(join(blobs, sha(config)), config);
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${sha(config)}`, size: config.length },
    layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...l })),
  }));
  writeFileSync(join(blobs, sha(manifest)), manifest);
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(join(dir, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${sha(manifest)}`, size: manifest.length,
      platform: { architecture: 'amd64', os: 'linux' }, annotations: { 'io.containerd.image.name': name } }],
  }));
  const archive = join(workDir, 'image-layers.tar');
  execFileSync('tar', ['-C', dir, '-cf', archive, '.']);
  return archive;
}
