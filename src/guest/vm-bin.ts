/**
 * The emulated VM's own `runc`. In a real utility VM, `runc` on PATH is the runc the GCS runs its containers
 * with, under runc's default root, so a process the host runs in the VM (ExecuteProcess on the zero
 * container id: DiagExecInHost, the host's `runc pause|resume <id>`) sees the GCS's containers. Here the
 * agent keeps each VM's containers under `--root <vmDir>/runc`, so `<vmDir>/bin/runc` is a wrapper that adds
 * that root, and processes in the VM find it first on their PATH (container-manager.ts externalSpec).
 */
import { chmod, mkdir, writeFile } from '../async/index.js';
import { delimiter, isAbsolute, join } from 'node:path';
import { shellQuote } from './process.js';
import { executable } from './run-tool.js';
import type { Runc } from './runc.js';
import type { VmPaths } from './vm-paths.js';

/** Writes `<vmDir>/bin/runc`: the agent's runc binary (resolved to an absolute path) with this VM's root. */
export async function writeVmRunc(paths: VmPaths, runc: Runc): Promise<void> {
  const binary = lookPath(runc.binary, process.env['PATH'] ?? '');
  await mkdir(paths.vmBin, { recursive: true });
  const file = join(paths.vmBin, 'runc');
  await writeFile(file, `#!/bin/sh\nexec ${shellQuote(binary)} --root ${shellQuote(paths.runcRoot)} "$@"\n`, { mode: 0o755 });
  await chmod(file, 0o755);
}

/** `name` found in the VM's own bin directory, else undefined (the caller keeps its PATH lookup). */
export function vmCommand(paths: VmPaths, name: string): string | undefined {
  if (name.includes('/')) return undefined;
  const candidate = join(paths.vmBin, name);
  return executable(candidate) ? candidate : undefined;
}

function lookPath(name: string, path: string): string {
  if (isAbsolute(name)) return name;
  for (const dir of path.split(delimiter)) {
    if (dir === '' || !isAbsolute(dir)) continue;
    const candidate = join(dir, name);
    if (executable(candidate)) return candidate;
  }
  return name; // not found: the wrapper fails like a missing runc would
}
