/**
 * The OCI bundle of a container. The host's spec names guest paths (root.path = /run/gcs/c/<id>/rootfs, bind
 * sources under /run/gcs/c/...); in the emulated VM those live under <vmDir>/rootfs, so they are rewritten to
 * real host paths before runc sees them. Rewritten: root.path, the source of every bind mount, and namespace
 * paths outside /proc (guest pids are host pids here, so /proc/<pid>/ns/... is valid as is). A spec with
 * hooks is refused (the host must drop them; Microsoft's GCS refuses them with a security policy, and here they
 * would run host binaries). Dropped: the Windows section. The cgroup path is made unique per VM:
 * /lcow/<vm-dir name>/<id>.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join, posix } from 'node:path';
import { invalidArg } from './errors.js';
import type { VmPaths } from './vm-paths.js';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function isBind(mount: Json): boolean {
  if (mount['type'] === 'bind') return true;
  const opts = mount['options'];
  return Array.isArray(opts) && opts.some((o) => o === 'bind' || o === 'rbind');
}

/** Returns a rewritten deep copy of `spec` (never mutates the input). */
export function rewriteSpec(spec: unknown, paths: VmPaths, id: string): Json {
  if (!isObject(spec)) throw invalidArg('OciSpecification must be a JSON object');
  const out = structuredClone(spec);
  const root = out['root'];
  if (!isObject(root) || typeof root['path'] !== 'string' || root['path'] === '') {
    throw invalidArg('OciSpecification.root.path is required');
  }
  if (root['path'].startsWith('/')) root['path'] = paths.hostPath(root['path'], 'OciSpecification.root.path');
  else if (root['path'].split('/').includes('..')) throw invalidArg('OciSpecification.root.path must not contain ".."');

  const mounts = out['mounts'];
  if (mounts !== undefined) {
    if (!Array.isArray(mounts)) throw invalidArg('OciSpecification.mounts must be an array');
    mounts.forEach((m, i) => {
      if (!isObject(m)) throw invalidArg(`OciSpecification.mounts[${i}] must be an object`);
      if (isBind(m) && typeof m['source'] === 'string' && m['source'].startsWith('/')) {
        m['source'] = paths.hostPath(m['source'], `OciSpecification.mounts[${i}].source`);
      }
    });
  }
  if (out['hooks'] !== undefined && out['hooks'] !== null) throw invalidArg('OciSpecification.Hooks must be nil.');
  delete out['windows'];

  const linux = isObject(out['linux']) ? out['linux'] : (out['linux'] = {});
  linux['cgroupsPath'] = `/lcow/${basename(paths.vmDir)}/${id}`;
  const namespaces = linux['namespaces'];
  if (Array.isArray(namespaces)) {
    namespaces.forEach((ns, i) => {
      if (!isObject(ns) || typeof ns['path'] !== 'string' || ns['path'] === '') return;
      if (!posix.normalize(ns['path']).startsWith('/proc/')) {
        ns['path'] = paths.hostPath(ns['path'], `OciSpecification.linux.namespaces[${i}].path`);
      }
    });
  }
  return out;
}

/**
 * Writes <bundleDir>/config.json as the real GCS does (hcsv2 writeSpecToFile: Go's json.Encoder, so compact
 * JSON and a newline). Synchronous calls in the VM's own dir, as mounts.ts's targets: the async ones were a
 * thread-pool round trip each (mkdir, open, write, close) and a FileHandle per Create.
 */
export function writeBundle(bundleDir: string, spec: Json): string {
  mkdirSync(bundleDir, { recursive: true, mode: 0o700 });
  const file = join(bundleDir, 'config.json');
  writeFileSync(file, JSON.stringify(spec) + '\n', { mode: 0o600 });
  return file;
}
