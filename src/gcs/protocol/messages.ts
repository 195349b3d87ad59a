/**
 * JSON bodies of every GCS message, with the field names exactly as they travel (Go's PascalCase names or
 * the upstream json tags). Optional fields are the ones Go's omitempty drops: decode a missing one as the
 * zero value. Fields typed `string` with a "JSON in a string" note carry a serialized document (see
 * json-body.ts and the inner types in documents.ts).
 */
import type { ModificationRequest } from './documents.js';
import type { SchemaVersion } from './schema-version.js';

/** Optional OpenCensus span context (deprecated upstream, still read by older guests). */
export interface Ocspancontext {
  TraceID?: string;
  SpanID?: string;
  TraceOptions?: number;
  Tracestate?: string;
}

/** Fields of every request (and of the container notification). */
export interface RequestBase {
  /** Target container id; NullContainerID for UVM-level calls; empty on NegotiateProtocol. */
  ContainerId: string;
  /** A GUID string; the host sends NullActivityID. */
  ActivityId: string;
  ocsc?: Ocspancontext;
  /** W3C trace-context headers (newer guests). */
  otsc?: Record<string, string>;
}

/** One entry of a failed response's ErrorRecords (hcsshim commonutils.ErrorRecord). */
export interface ErrorRecord {
  /** int32 HRESULT on the wire (negative for failures). */
  Result: number;
  Message: string;
  StackTrace?: string;
  ModuleName?: string;
  FileName?: string;
  /** 4294967295 when there is no stack. */
  Line?: number;
  FunctionName?: string;
}

/** Fields of every response. */
export interface ResponseBase {
  /** int32 HRESULT, 0 = success. Compare through hresultFromWire. */
  Result: number;
  ErrorMessage?: string;
  /** The request's ActivityId, echoed; absent if the request had none. */
  ActivityId?: string;
  ErrorRecords?: ErrorRecord[];
}

// --- NegotiateProtocol ------------------------------------------------------------------------------------

export interface NegotiateProtocolRequest extends RequestBase {
  MinimumVersion: number;
  MaximumVersion: number;
}

export interface GuestDefinedCapabilities {
  NamespaceAddRequestSupported?: boolean;
  SignalProcessSupported?: boolean;
  DumpStacksSupported?: boolean;
  DeleteContainerStateSupported?: boolean;
}

export interface GcsCapabilities {
  SendHostCreateMessage?: boolean;
  SendHostStartMessage?: boolean;
  HvSocketConfigOnStartup?: boolean;
  SendLifecycleNotifications?: boolean;
  ModifyServiceSettingsSupported?: boolean;
  SupportedSchemaVersions?: SchemaVersion[];
  /** "Linux" from the Linux GCS; the host lower-cases it, empty meaning "windows". */
  RuntimeOsType?: string;
  GuestDefinedCapabilities?: GuestDefinedCapabilities;
}

export interface NegotiateProtocolResponse extends ResponseBase {
  Version?: number;
  Capabilities?: GcsCapabilities;
}

// --- Create / Start / Shutdown* / DeleteContainerState / DumpStacks -----------------------------------------

export interface ContainerCreate extends RequestBase {
  /** JSON in a string: a ContainerConfig (documents.ts), or a UvmConfig for the UVM itself. */
  ContainerConfig: string;
  SupportedVersions?: unknown;
}

export interface ContainerCreateResponse extends ResponseBase {
  SelectedVersion?: string;
  /** Always 0 from the Linux GCS (legacy). */
  SelectedProtocolVersion?: number;
}

/** Start, ShutdownGraceful, ShutdownForced, DeleteContainerState, DumpStacks: the base only. */
export type ContainerStart = RequestBase;
export type ContainerShutdownGraceful = RequestBase;
export type ContainerShutdownForced = RequestBase;
export type DeleteContainerStateRequest = RequestBase;
export type DumpStacksRequest = RequestBase;

export interface DumpStacksResponse extends ResponseBase {
  GuestStacks?: string;
}

// --- ExecuteProcess / WaitForProcess / SignalProcess / ResizeConsole -----------------------------------------

/** Windows guests: hvsock service GUIDs per stream. */
export interface ExecuteProcessStdioRelaySettings {
  StdIn?: string;
  StdOut?: string;
  StdErr?: string;
}

/** Linux guests: the host vsock port the guest dials per stream; 0 / absent = no such stream. */
export interface ExecuteProcessVsockStdioRelaySettings {
  StdIn?: number;
  StdOut?: number;
  StdErr?: number;
}

export interface ExecuteProcessSettings {
  /** JSON in a string: ProcessParameters (documents.ts). */
  ProcessParameters: string;
  StdioRelaySettings?: ExecuteProcessStdioRelaySettings;
  VsockStdioRelaySettings?: ExecuteProcessVsockStdioRelaySettings;
}

export interface ContainerExecuteProcess extends RequestBase {
  Settings: ExecuteProcessSettings;
}

export interface ContainerExecuteProcessResponse extends ResponseBase {
  ProcessId: number;
}

export interface ContainerWaitForProcess extends RequestBase {
  ProcessId: number;
  /** Milliseconds; InfiniteWaitTimeout (0xFFFFFFFF) = forever. */
  TimeoutInMs: number;
}

export interface ContainerWaitForProcessResponse extends ResponseBase {
  /** 128 + signal number for a process killed by a signal. */
  ExitCode: number;
}

export interface SignalProcessOptions {
  /** Signal number; 0 or absent means SIGKILL. */
  Signal?: number;
}

export interface ContainerSignalProcess extends RequestBase {
  ProcessId: number;
  /** Absent ⇒ SIGKILL. */
  Options?: SignalProcessOptions;
}

export interface ContainerResizeConsole extends RequestBase {
  ProcessId: number;
  Height: number;
  Width: number;
}

// --- GetProperties / ModifySettings -------------------------------------------------------------------------

export interface ContainerGetProperties extends RequestBase {
  /** JSON in a string: a PropertyQuery (documents.ts). */
  Query: string;
}

export interface ContainerGetPropertiesResponse extends ResponseBase {
  /** JSON in a string: ContainerProperties (documents.ts). */
  Properties?: string;
}

export interface ContainerModifySettings extends RequestBase {
  /** An object, not a string. */
  Request: ModificationRequest;
}

export type ContainerModifySettingsResponse = ResponseBase;

// --- Notification (guest → host, ID 0, Type ComputeSystemNotificationV1) ------------------------------------

/** Values of ContainerNotification.Type seen from the Linux GCS. Do not rely on them for ordering. */
export type NotificationType = 'GracefulExit' | 'ForcedExit' | 'UnexpectedExit' | 'Reboot' | 'Constructed' | 'Started' | 'Paused' | 'Unknown' | 'None';

export interface ContainerNotification extends RequestBase {
  Type: NotificationType | string;
  /** "None" from the Linux GCS. */
  Operation: string;
  /** int32 HRESULT. */
  Result: number;
  /** JSON in a string; absent when empty. */
  ResultInfo?: string;
}
