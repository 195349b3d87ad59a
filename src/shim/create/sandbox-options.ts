import { invalidArgument } from '../../errdefs/index.js';
import type { Logger } from '../../log/index.js';
import type { RuntimeOptions } from '../../sandbox/index.js';

/**
 * runhcs's checks of the runtime options against an LCOW spec (service_internal.go createInternal), made
 * only when options were given (an empty or all-default Options is "not configured", as runhcs):
 * - sandbox_isolation must be HYPERVISOR: every LCOW task runs in a utility VM, and runhcs refuses PROCESS
 *   isolation for a hypervisor-isolated (LCOW) spec;
 * - sandbox_platform, when set, must name the linux OS (`linux`, `linux/amd64`, …): a windows platform
 *   with a Linux spec, or an unknown OS, is refused;
 * - debug_type FILE is refused (runhcs: "file log output mode is not supported"); ETW is accepted, but this
 *   shim has no ETW provider, so its logs keep going to the log pipe (logged once at warn).
 */
export function checkRuntimeOptions(o: RuntimeOptions, log: Logger): void {
  if (o.configured !== true) return;
  if (o.sandboxIsolation !== 'hypervisor') {
    throw invalidArgument(
      'invalid runtime sandbox isolation (PROCESS) for hypervisor isolated OCI spec: io.containerd.lcow.v1 runs every ' +
        'task in a utility VM; set SandboxIsolation = 1 (HYPERVISOR) in the runtime options',
    );
  }
  if (o.sandboxPlatform !== undefined && o.sandboxPlatform !== '') {
    const os = platformOs(o.sandboxPlatform);
    if (os === 'windows') throw invalidArgument(`non-empty Linux config in OCI spec for Windows sandbox platform: ${o.sandboxPlatform}`);
    if (os !== 'linux') throw invalidArgument(`unknown runtime sandbox platform OS: ${o.sandboxPlatform}`);
  }
  if (o.debugType === 'file') throw invalidArgument('runtime option debug_type FILE is not supported (runhcs does not support it either)');
  if (o.debugType === 'etw') log.warn('runtime option debug_type ETW: this shim has no ETW provider; its logs keep going to the log pipe');
}

/** The OS of a containerd platform specifier (`os[/arch[/variant]]`), lower-cased; throws on a malformed one. */
function platformOs(specifier: string): string {
  const parts = specifier.split('/');
  if (parts.length > 3 || parts.some((p) => !/^[A-Za-z0-9_.-]+$/.test(p))) {
    throw invalidArgument(`invalid runtime sandbox platform: '${specifier}' is not os[/arch[/variant]]`);
  }
  return (parts[0] ?? '').toLowerCase();
}
