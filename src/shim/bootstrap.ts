/**
 * The `start` bootstrap: what containerd hands `start` on stdin and what `start` prints back, per containerd
 * version (facts from containerd v1.6.20 runtime/v2 and v2.4.2 core/runtime/v2/command.go, binary.go, shim.go):
 *
 *   containerd     stdin of `start`                                   reply `start` prints (stdout)
 *   1.6 – 2.2      the runtime options Any (protobuf), or nothing     the plain address `unix:///…`
 *   2.3 +          BootstrapParams (protobuf): instance id, namespace, a protobuf BootstrapResult {version, address,
 *                  log level, containerd version, socket_dir, the     protocol}; containerd also accepts JSON or
 *                  runtime options as extensions                      the plain address (it tries protobuf first)
 *
 * (containerd keeps the old stdin for binaries named *shim-runc-v1* / *shim-runhcs-v1*; ours is neither.)
 * Like containerd's own shim library (pkg/shim/compat.go), stdin counts as BootstrapParams only when it decodes
 * as one AND its instance id and namespace equal -id and -namespace: an options Any decodes as BootstrapParams
 * too (fields 1 and 2 are strings in both). Everything else is read as the legacy options Any.
 *
 * The reply's version tells containerd which Task service to call: 2 → containerd.task.v2.Task, 3 →
 * containerd.task.v3.Task (the daemon registers both). containerd 2.x also reads version 3 as "this shim hosts
 * a pod's containers itself": it then never runs `start` for a container that joins a sandbox, and sends its
 * Create straight to the sandbox's shim (core/runtime/v2/shim_manager.go, supportSandboxAPIVersion).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { containerd, google } from '../proto/index.js';
import { decodeRuntimeOptions } from './create/runtime-options.js';
import type { StartInput } from './start-input.js';
import type { OpaqueAny } from './task/types.js';

export type { StartInput } from './start-input.js';

/**
 * The Task API version the reply announces to containerd 2.3+ for a task's shim (standalone, or a pause
 * container's: pods joined through `start`, which 1.6 needs too). Kept at 2 so both containerds drive the
 * pause-container mode the same way.
 */
export const TASK_API_VERSION = 2;

/**
 * The version announced by the shim of a Sandbox API sandbox (containerd's "shim" sandboxer): 3, "this shim
 * hosts its sandbox's containers" — containerd 2.x then sends each container's Create straight to it over
 * containerd.task.v3.Task, without running `start` for it (core/runtime/v2/shim_manager.go Start,
 * supportSandboxAPIVersion; the sandbox controller hands out this shim's address and version).
 */
export const SANDBOX_TASK_API_VERSION = 3;

/**
 * Which version `start` announces for `bundle`: a task's bundle always holds its spec (config.json); the bundle
 * containerd's shim sandbox controller starts a sandbox's shim in has none (CRI passes no spec:
 * plugins/sandbox/controller.go Create, core/runtime/v2/bundle.go NewBundle).
 */
export function taskApiVersionFor(bundle: string): number {
  return existsSync(join(bundle, 'config.json')) ? TASK_API_VERSION : SANDBOX_TASK_API_VERSION;
}

export type BootstrapLogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';

const { LogLevel } = containerd.runtime.bootstrap.v1;
const LEVELS = new Map<number, BootstrapLogLevel>([
  [LogLevel.LOG_LEVEL_TRACE, 'trace'],
  [LogLevel.LOG_LEVEL_DEBUG, 'debug'],
  [LogLevel.LOG_LEVEL_INFO, 'info'],
  [LogLevel.LOG_LEVEL_WARN, 'warn'],
  [LogLevel.LOG_LEVEL_ERROR, 'error'],
  [LogLevel.LOG_LEVEL_FATAL, 'error'],
  [LogLevel.LOG_LEVEL_PANIC, 'error'],
]);

/** Decides what containerd wrote to `start`'s stdin (see the table above). Never throws. */
export function parseStartInput(input: Uint8Array, id: string, namespace: string): StartInput {
  if (input.length === 0) return {};
  const p = tryDecode(() => containerd.runtime.bootstrap.v1.BootstrapParams.decode(input));
  if (p !== undefined && p.instance_id === id && p.namespace === namespace && id !== '') {
    const ext = p.extensions?.find((e) => e.value?.type_url);
    const params: NonNullable<StartInput['params']> = {
      containerdVersion: p.containerd_version ?? '',
      logLevel: LEVELS.get(p.log_level ?? 0) ?? 'info',
      ...(p.socket_dir ? { socketDir: p.socket_dir } : {}),
      ...(p.containerd_ttrpc_address ? { ttrpcAddress: p.containerd_ttrpc_address } : {}),
    };
    return withLogLevel({ params, ...(ext?.value ? { options: toOpaque(ext.value) } : {}) });
  }
  const any = tryDecode(() => google.protobuf.Any.decode(input));
  return withLogLevel(any?.type_url ? { options: toOpaque(any) } : {});
}

/**
 * The runtime options' `log_level` and `debug`, for the daemon's log level (log-level.ts decides, with
 * containerd 2.3+'s level and -debug). Options of another type are left to Create, which rejects them with a
 * clear error.
 */
function withLogLevel(input: StartInput): StartInput {
  try {
    const o = decodeRuntimeOptions(input.options);
    return { ...input, ...(o.logLevel ? { optionsLogLevel: o.logLevel } : {}), ...(o.debug ? { optionsDebug: true } : {}) };
  } catch {
    return input; // not runhcs options: Create reports them
  }
}

/** What `start` prints: a protobuf BootstrapResult for containerd 2.3+, the plain address for the others. */
export function startReply(address: string, input: StartInput, version = TASK_API_VERSION): Uint8Array | string {
  if (input.params === undefined) return address;
  return containerd.runtime.bootstrap.v1.BootstrapResult.encode({ version, address, protocol: 'ttrpc' }).finish();
}

function tryDecode<T>(decode: () => T): T | undefined {
  try {
    return decode();
  } catch {
    return undefined;
  }
}

function toOpaque(any: { type_url?: string | null; value?: Uint8Array | null }): OpaqueAny {
  return { typeUrl: any.type_url ?? '', value: any.value ?? new Uint8Array() };
}
