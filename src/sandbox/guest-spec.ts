import { annotationBool } from './guest-annotations.js';

/** hcsshim pkg/annotations LCOWPrivileged: the container runs without a seccomp profile. */
export const LCOW_PRIVILEGED = 'io.microsoft.virtualmachine.lcow.privileged';

/** The CPU period the GCS gets for a spec that says 0 (hcsshim: the kernel's default, 100 ms). */
export const DEFAULT_CPU_PERIOD = 100000;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The spec the GCS gets for a container (hcsshim internal/hcsoci createLCOWSpec), from a deep copy:
 *  - `hooks` dropped: they name host binaries and would run in the VM (Microsoft's GCS refuses a spec with
 *    hooks in confidential mode; ours always does);
 *  - `windows` reduced to `network.networkNamespace` and `devices` (absent when neither is given);
 *  - `linux.cgroupsPath` cleared: the GCS places containers in its own cgroup hierarchy;
 *  - `linux.resources` loses `devices`, `pids`, `blockIO`, `hugepageLimits` and `network` (not applied in
 *    the VM); `memory` and `cpu` stay;
 *  - `linux.resources.cpu.period` 0 becomes 100000 and `quota` 0 becomes -1 (no limit), as runhcs;
 *  - `linux.seccomp` dropped when annotation `io.microsoft.virtualmachine.lcow.privileged` is true (a value
 *    that is not a boolean is an InvalidArgument, like every annotation here; runhcs would log and use false).
 * Every other field passes unchanged. The input is never mutated.
 */
export function lcowGuestSpec(spec: Readonly<Json>): Json {
  const out = structuredClone(spec) as Json;
  const windows = spec['windows'];
  delete out['windows'];
  if (isObject(windows)) {
    const reduced: Json = {};
    const network = windows['network'];
    if (isObject(network) && typeof network['networkNamespace'] === 'string' && network['networkNamespace'] !== '') {
      reduced['network'] = { networkNamespace: network['networkNamespace'] };
    }
    const devices = windows['devices'];
    if (devices !== undefined && devices !== null) {
      if (!Array.isArray(devices) || devices.length > 0) reduced['devices'] = structuredClone(devices);
    }
    if (reduced['network'] !== undefined || devices !== undefined && devices !== null) out['windows'] = reduced;
  }
  delete out['hooks'];

  const linux = isObject(out['linux']) ? out['linux'] : undefined;
  if (linux === undefined) return out;
  const resources = isObject(linux['resources']) ? linux['resources'] : undefined;
  const cpu = resources !== undefined && isObject(resources['cpu']) ? resources['cpu'] : undefined;
  if (cpu !== undefined) {
    if (cpu['period'] === 0) cpu['period'] = DEFAULT_CPU_PERIOD;
    if (cpu['quota'] === 0) cpu['quota'] = -1;
  }
  delete linux['cgroupsPath'];
  if (resources !== undefined) {
    for (const k of ['devices', 'pids', 'blockIO', 'hugepageLimits', 'network']) delete resources[k];
  }
  const annotations = isObject(out['annotations']) ? (out['annotations'] as Record<string, string>) : {};
  if (annotationBool(annotations, LCOW_PRIVILEGED) === true) delete linux['seccomp'];
  return out;
}
