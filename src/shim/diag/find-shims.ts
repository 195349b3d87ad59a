import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { invalidArgument, notFound } from '../../errdefs/index.js';

/** containerd's runtime v2 task state: `<state>/io.containerd.runtime.v2.task/<namespace>/<id>/address`. */
export const TASK_STATE_DIR = 'io.containerd.runtime.v2.task';

export interface ShimEntry {
  /** The task id the shim was started for (its name for the diag commands). */
  readonly id: string;
  /** Its ttrpc address as the shim wrote it (`unix://…` or a named pipe). */
  readonly address: string;
}

/**
 * The shims of a containerd namespace, from containerd's state directory (every runtime v2 shim writes its
 * address into its bundle there), sorted by id. hcsshim's shimdiag finds shims by their pipe names instead;
 * the state directory works on every platform and for every way the address is derived.
 */
export function findShims(stateDir: string, namespace: string, prefix = ''): ShimEntry[] {
  const dir = join(stateDir, TASK_STATE_DIR, namespace);
  let ids: string[];
  try {
    ids = readdirSync(dir);
  } catch {
    return [];
  }
  const out: ShimEntry[] = [];
  for (const id of ids.filter((i) => i.startsWith(prefix)).sort()) {
    try {
      const address = readFileSync(join(dir, id, 'address'), 'utf8').trim();
      if (address !== '') out.push({ id, address });
    } catch {
      // no address: a bundle whose shim has not started or is gone
    }
  }
  return out;
}

/** One shim by name: an exact id, or a prefix that only one id has (as shimdiag's findShim). */
export function findShim(stateDir: string, namespace: string, name: string): ShimEntry {
  if (name === '' || /[*?\\/]/.test(name)) throw invalidArgument(`invalid shim name '${name}'`);
  const shims = findShims(stateDir, namespace, name);
  const exact = shims.find((s) => s.id === name);
  if (exact !== undefined) return exact;
  if (shims.length === 0) throw notFound(`no such shim '${name}' in namespace '${namespace}'`);
  if (shims.length > 1) throw invalidArgument(`multiple shims beginning with '${name}': ${shims.map((s) => s.id).join(', ')}`);
  return shims[0] as ShimEntry;
}
