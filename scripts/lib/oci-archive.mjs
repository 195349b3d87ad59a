// Writes a one-layer OCI image archive (an OCI layout tar, what `ctr images import` reads) of a root
// filesystem directory: node scripts/lib/oci-archive.mjs ROOTFS_DIR OUT.tar NAME
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [rootfs, out, name] = process.argv.slice(2);
if (!rootfs || !out || !name) {
  process.stderr.write('usage: oci-archive.mjs ROOTFS_DIR OUT.tar NAME\n');
  process.exit(2);
}
const sha = (b) => createHash('sha256').update(b).digest('hex');
const dir = mkdtempSync(join(process.env.TMPDIR ?? '/tmp', 'oci-archive-'));
try {
  const blobs = join(dir, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const layerTar = join(dir, 'layer.tar');
  execFileSync('tar', ['--numeric-owner', '-C', rootfs, '-cf', layerTar, '.']);
  const layer = readFileSync(layerTar);
  renameSync(layerTar, join(blobs, sha(layer)));
  const blob = (obj) => {
    const b = Buffer.from(JSON.stringify(obj));
    writeFileSync(join(blobs, sha(b)), b);
    return { digest: `sha256:${sha(b)}`, size: b.length };
  };
  const config = blob({ architecture: 'amd64', os: 'linux', config: { Cmd: ['/bin/sh'], Env: ['PATH=/bin'] }, rootfs: { type: 'layers', diff_ids: [`sha256:${sha(layer)}`] } });
  const manifest = blob({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: `sha256:${sha(layer)}`, size: layer.length }],
  });
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(join(dir, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, platform: { architecture: 'amd64', os: 'linux' },
      annotations: { 'io.containerd.image.name': name, 'org.opencontainers.image.ref.name': name.split(':').pop() } }],
  }));
  execFileSync('tar', ['-C', dir, '-cf', out, '.']);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
