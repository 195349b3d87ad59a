import type { ComputeSystem, ModifySettingRequest, SystemProperties, PropertyQuery } from './schema/index.js';

/** Why a compute system exited, as the exit notification reports it. */
export interface SystemExit {
  /** Unsigned HRESULT carried by the SystemExited notification (0 for a clean exit). */
  readonly hresult: number;
  /** The notification's data document (JSON), if any. */
  readonly data?: string;
  /** True when the exit was not requested by us (crash, lost service). */
  readonly unexpected: boolean;
}

export interface HcsCallOptions {
  /** Aborting abandons the wait (the operation is cancelled where the API allows). */
  readonly signal?: AbortSignal;
  /** Upper bound for the call in milliseconds; the backend's per-call default applies when absent. */
  readonly timeoutMs?: number;
}

/**
 * One HCS compute system handle. Contracts:
 * - every method MUST reject with HcsError (a ShimError) carrying the unsigned HRESULT on failure;
 * - shutdown/terminate MUST treat "already stopped" and "does not exist" as success;
 * - close MUST be idempotent and MUST NOT deadlock with an exit notification in flight.
 */
export interface HcsSystem {
  readonly id: string;
  start(opts?: HcsCallOptions): Promise<void>;
  shutdown(opts?: HcsCallOptions): Promise<void>;
  terminate(opts?: HcsCallOptions): Promise<void>;
  /** Resolves once, when the system has exited (also after close: then with the last known exit). */
  waitExit(): Promise<SystemExit>;
  properties(query?: PropertyQuery, opts?: HcsCallOptions): Promise<SystemProperties>;
  modify(request: ModifySettingRequest, opts?: HcsCallOptions): Promise<void>;
  close(): Promise<void>;
}

/** Summary row of HcsEnumerateComputeSystems. */
export interface ComputeSystemSummary {
  readonly Id: string;
  readonly SystemType?: string;
  readonly Owner?: string;
  readonly RuntimeId?: string;
  readonly State?: string;
}

/** Facts about the host the utility VM runs on, as CreateLCOW needs them (hcsshim: osversion + HCS topology). */
export interface HostInfo {
  /** Windows build number (e.g. 17763 = RS5, 20348 = Server 2022). The emulator reports the build it emulates. */
  readonly osBuild: number;
  /** Logical processors as the HCS reports them (processor count is clamped to this). */
  readonly logicalProcessors: number;
  /** How host paths are joined: Windows (`C:\\a\\b`) or POSIX (`/a/b`). */
  readonly pathFlavour: 'windows' | 'posix';
  readonly arch: 'amd64' | 'arm64';
}

/** The HCS as the rest of the shim sees it: computecore.dll on Windows, the emulator on Linux. */
export interface HcsApi {
  readonly backend: 'computecore' | 'emulator';
  hostInfo(): Promise<HostInfo>;
  createComputeSystem(id: string, document: ComputeSystem, opts?: HcsCallOptions): Promise<HcsSystem>;
  openComputeSystem(id: string, opts?: HcsCallOptions): Promise<HcsSystem>;
  enumerateComputeSystems(query?: object, opts?: HcsCallOptions): Promise<ComputeSystemSummary[]>;
}
