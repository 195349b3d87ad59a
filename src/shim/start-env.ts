import type { StartInput } from './start-input.js';
import { shimLogEnv, startLogLevel } from './log-level.js';
import { runtimeOptionsEnv } from './runtime-options-env.js';

/**
 * What containerd handed `start` (stdin, decoded by bootstrap.ts) means for the daemon, in one place for both
 * starts: Node's `start` spawns `serve` with it in its environment (manager.ts); a `serve` that the sh `start`
 * gave the spooled stdin applies it to its own environment before anything reads it (serve-start-input.ts).
 *
 *   variable                      from
 *   LCOW_SHIM_LOG_LEVEL(_FROM)    log-level.ts's rule: runtime options log_level > containerd's level > debug
 *   LCOW_SHIM_LOG_LEVEL_WARNING   the same rule (undefined: none, and none inherited)
 *   TTRPC_ADDRESS                 containerd 2.3+'s containerd_ttrpc_address (wins over the inherited variable)
 *   LCOW_SHIM_RUNTIME_OPTIONS     the runtime options (runtime-options-env.ts)
 *
 * An undefined value means "not set": spawn drops it, applyToEnv deletes it.
 */
export function daemonStartEnv(input: StartInput, debugFlag: boolean): NodeJS.ProcessEnv {
  return {
    ...shimLogEnv(startLogLevel(input, debugFlag)),
    ...(input.params?.ttrpcAddress ? { TTRPC_ADDRESS: input.params.ttrpcAddress } : {}),
    ...runtimeOptionsEnv(input.options),
  };
}

/**
 * containerd 2.3+'s socket_dir becomes this process's LCOW_SHIM_SOCKET_DIR unless that is set (it overrides), so
 * every socket path computed afterwards (ours, a pod's shim that a workload joins) and the daemon agree.
 */
export function useSocketDir(input: StartInput, env: NodeJS.ProcessEnv = process.env): void {
  const dir = input.params?.socketDir;
  if (dir && !env['LCOW_SHIM_SOCKET_DIR']) env['LCOW_SHIM_SOCKET_DIR'] = dir;
}

/** Sets each variable of `vars` in `env`, deleting those whose value is undefined. */
export function applyToEnv(env: NodeJS.ProcessEnv, vars: NodeJS.ProcessEnv): void {
  for (const [k, v] of Object.entries(vars)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
}
