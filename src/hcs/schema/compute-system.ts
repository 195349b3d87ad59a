import type { SchemaVersion } from './schema-version.js';
import type { VirtualMachine } from './virtual-machine.js';

/**
 * schema2 `ComputeSystem`: the document passed to HcsCreateComputeSystem. For LCOW only `Owner`,
 * `SchemaVersion`, `VirtualMachine` and `ShouldTerminateOnLastHandleClosed` are used (hcs-and-uvm.md §5.2).
 */
export interface ComputeSystem {
  Owner?: string;
  SchemaVersion?: SchemaVersion;
  HostingSystemId?: string;
  /** Opaque to us: hcsshim types it `interface{}`. */
  HostedSystem?: unknown;
  /** Process-isolated containers only; unused by LCOW, kept opaque. */
  Container?: Record<string, unknown>;
  VirtualMachine?: VirtualMachine;
  /** HCS kills the VM when its last HCS_SYSTEM handle closes (e.g. the shim dies). */
  ShouldTerminateOnLastHandleClosed?: boolean;
}
