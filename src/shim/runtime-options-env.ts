/**
 * The runtime options containerd gave `start` (stdin: BootstrapParams extensions on 2.3+, the options Any
 * before), handed to the daemon in its environment: a Sandbox API sandbox gets no other copy (its
 * CreateSandbox carries CRI's PodSandboxConfig, and no Task Create comes for it), so its utility VM is sized
 * from them as a pause container's would be from its Create. Encoded `<type URL> <base64 value>`; serve takes
 * the variable out of its environment, so the processes it starts do not inherit it.
 */
import type { OpaqueAny } from './task/types.js';

export const RUNTIME_OPTIONS_ENV = 'LCOW_SHIM_RUNTIME_OPTIONS';

export function runtimeOptionsEnv(options: OpaqueAny | undefined): NodeJS.ProcessEnv {
  if (options === undefined || options.typeUrl === '') return {};
  return { [RUNTIME_OPTIONS_ENV]: `${options.typeUrl} ${Buffer.from(options.value).toString('base64')}` };
}

/** The options `start` passed (undefined: none, or a value that is not ours); removed from `env`. */
export function takeRuntimeOptions(env: NodeJS.ProcessEnv): OpaqueAny | undefined {
  const raw = env[RUNTIME_OPTIONS_ENV];
  delete env[RUNTIME_OPTIONS_ENV];
  const m = /^(\S+) ([A-Za-z0-9+/]*={0,2})$/.exec(raw ?? '');
  if (m === null) return undefined;
  return { typeUrl: m[1] ?? '', value: new Uint8Array(Buffer.from(m[2] ?? '', 'base64')) };
}
