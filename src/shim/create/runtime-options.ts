import { invalidArgument } from '../../errdefs/index.js';
import { containerd } from '../../proto/index.js';
import type { RuntimeOptions } from '../../sandbox/index.js';
import type { OpaqueAny } from '../task/types.js';

export const RUNHCS_OPTIONS_TYPE = 'containerd.runhcs.v1.Options';
export const RUNC_OPTIONS_TYPE = 'containerd.runc.v1.Options';

/** The bare message name of a type URL (`type.googleapis.com/x.y.Z` → `x.y.Z`). */
const messageName = (typeUrl: string): string => typeUrl.slice(typeUrl.lastIndexOf('/') + 1);

/**
 * containerd 2.x's client sends a containerd.runc.v1.Options carrying only the deprecated task API endpoint
 * for a task that joins a Sandbox API sandbox when the runtime has no options (client WithTaskAPIEndpoint,
 * for every runtime): that is "no options". Any other runc option is a misconfiguration.
 */
function onlyTaskApiEndpoint(any: OpaqueAny): boolean {
  let o: containerd.runc.v1.Options;
  try {
    o = containerd.runc.v1.Options.decode(any.value);
  } catch {
    return false;
  }
  // a decoded message has own properties only for the fields on the wire
  return Object.keys(o).every((k) => k === 'task_api_address' || k === 'task_api_version');
}

/**
 * Reads CreateTaskRequest.options. Accepted: nothing (or containerd 2.x's endpoint-only runc Options), or hcsshim's containerd.runhcs.v1.Options (so existing
 * runhcs runtime configuration works with our handler). Anything else is an error naming the type.
 */
export function decodeRuntimeOptions(any: OpaqueAny | undefined): RuntimeOptions {
  if (any === undefined) return {};
  const name = messageName(any.typeUrl);
  if (name === RUNC_OPTIONS_TYPE && onlyTaskApiEndpoint(any)) return {};
  if (name !== RUNHCS_OPTIONS_TYPE) {
    throw invalidArgument(
      `unsupported runtime options type '${any.typeUrl}': io.containerd.lcow.v1 accepts ${RUNHCS_OPTIONS_TYPE}`,
    );
  }
  let o: containerd.runhcs.v1.Options;
  try {
    o = containerd.runhcs.v1.Options.decode(any.value);
  } catch (err) {
    throw invalidArgument(`runtime options ${RUNHCS_OPTIONS_TYPE} do not decode: ${(err as Error).message}`, err);
  }
  const debugTypes = ['npipe', 'file', 'etw'] as const;
  return {
    // runhcs: options equal to the defaults are "not configured" (emptyShimOpts), so its checks do not apply.
    configured: containerd.runhcs.v1.Options.encode(o).finish().length > 0,
    sandboxIsolation: o.sandbox_isolation === containerd.runhcs.v1.Options.SandboxIsolation.HYPERVISOR ? 'hypervisor' : 'process',
    ...(o.sandbox_platform ? { sandboxPlatform: o.sandbox_platform } : {}),
    debugType: debugTypes[o.debug_type] ?? 'npipe',
    ...(o.scrub_logs === false ? { scrubLogs: false } : {}),
    ...(o.NCProxyAddr ? { ncProxyAddr: o.NCProxyAddr } : {}),
    debug: o.debug,
    ...(o.log_level ? { logLevel: o.log_level } : {}),
    ...(o.boot_files_root_path ? { bootFilesRootPath: o.boot_files_root_path } : {}),
    ...(o.vm_processor_count ? { vmProcessorCount: o.vm_processor_count } : {}),
    ...(o.vm_memory_size_in_mb ? { vmMemorySizeInMB: o.vm_memory_size_in_mb } : {}),
    ...(o.io_retry_timeout_in_sec ? { ioRetryTimeoutInSec: o.io_retry_timeout_in_sec } : {}),
    defaultContainerAnnotations: { ...(o.default_container_annotations ?? {}) },
  };
}
