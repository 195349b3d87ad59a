import type { Chipset } from './chipset.js';
import type { Devices } from './devices.js';
import type { SchemaVersion } from './schema-version.js';
import type { Topology } from './topology.js';

/** schema2 `StorageQoS`: both int32. */
export interface StorageQoS {
  IopsMaximum?: number;
  BandwidthMaximum?: number;
}

/**
 * schema2 `GuestConnection`. When present HCS waits for the guest to connect before Start completes;
 * the LCOW shim owns the GCS bridge itself, so the default document leaves it out.
 */
export interface GuestConnectionSettings {
  UseVsock?: boolean;
  UseConnectedSuspend?: boolean;
  /** Schema 2.4 (MS docs); hcsshim does not have it. */
  UseHostTimeZone?: boolean;
}

/** schema2 `VirtualMachine`. Fields LCOW never sets are typed loosely as opaque objects. */
export interface VirtualMachine {
  Version?: SchemaVersion;
  StopOnReset?: boolean;
  Chipset?: Chipset;
  ComputeTopology?: Topology;
  Devices?: Devices;
  GuestState?: Record<string, unknown>;
  RestoreState?: Record<string, unknown>;
  RegistryChanges?: Record<string, unknown>;
  StorageQoS?: StorageQoS;
  DebugOptions?: Record<string, unknown>;
  GuestConnection?: GuestConnectionSettings;
  SecuritySettings?: Record<string, unknown>;
  ResourcePartitionId?: string;
  MigrationOptions?: Record<string, unknown>;
}
