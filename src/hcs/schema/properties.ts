/**
 * Property query and result documents. The UVM path queries with `{}` (schema1 `PropertyQuery` without
 * types) and reads `RuntimeId` (the Hyper-V VM GUID that hvsock addresses use).
 */

/** `PropertyQuery`: `{}` or `{"PropertyTypes": [...]}` (schema1), or schema2 `PropertyTypes` names. */
export interface PropertyQuery {
  PropertyTypes?: string[];
}

/** Compute system states as HCS reports them. */
export type SystemState = 'Created' | 'Running' | 'Paused' | 'Stopped' | 'SavedAsTemplate' | 'Unknown' | string;

/** The properties document HcsGetComputeSystemProperties returns (fields LCOW reads, others kept). */
export interface SystemProperties {
  Id: string;
  State?: SystemState;
  /** The Hyper-V VM GUID; needed to address the UVM over hvsock. */
  RuntimeId?: string;
  /** "VirtualMachine" | "Container". */
  SystemType?: string;
  /** "Linux" | "Windows". */
  RuntimeOsType?: string;
  Owner?: string;
  Name?: string;
  Stopped?: boolean;
  ExitType?: string;
  ObRoot?: string;
  RuntimeTemplateId?: string;
  /** Anything else HCS returned, untouched. */
  [extra: string]: unknown;
}

/** One event of a ResultError document (`ErrorEvents`). */
export interface HcsErrorEvent {
  Message?: string;
  StackTrace?: string;
  Provider?: string;
  EventId?: number;
  Flags?: number;
  Source?: string;
}

/** The result document HCS returns with a failed operation. */
export interface ResultError {
  /** int32 HRESULT. */
  Error?: number;
  ErrorMessage?: string;
  ErrorEvents?: HcsErrorEvent[];
  [extra: string]: unknown;
}

/** `SystemExitStatus`: the EventData of HcsEventSystemExited. */
export interface SystemExitStatus {
  /** int32 HRESULT. */
  Status?: number;
  /** "GracefulExit" | "ForcedExit" | "UnexpectedExit" | "Unknown" ... */
  ExitType?: string;
  [extra: string]: unknown;
}
