import os from 'node:os';
import { ErrorCode, HResult, ShimError } from '../../errdefs/index.js';
import { whenSettled } from '../../async/index.js';
import { rootLogger, type Logger } from '../../log/index.js';
import { HcsError } from '../errors.js';
import type { HcsCallOptions, ComputeSystemSummary, HcsApi, HcsSystem, HostInfo } from '../hcs-api.js';
import { toHcsJson, type ComputeSystem } from '../schema/index.js';
import { COMPUTECORE_NOT_FOUND, DEFAULT_HCS_TIMEOUT_MS } from './constants.js';
import { EventRouter } from './event-router.js';
import { loadComputecore, type ComputecoreLibrary, type HcsSystemHandle } from './ffi.js';
import { asHresult, callAsync } from './native-call.js';
import { runOperation } from './operation.js';
import { ComputecoreSystem, parseObject } from './system.js';

/** GENERIC_ALL: the only access HcsOpenComputeSystem accepts. */
const GENERIC_ALL = 0x10000000;


export interface ComputecoreOptions {
  /** computecore.dll (Windows: `%SystemRoot%\System32\computecore.dll`) or the Linux test double. */
  readonly libraryPath: string;
  /** Library exporting LocalFree (Windows: kernel32.dll); defaults to libraryPath. */
  readonly localFreeLibraryPath?: string;
  readonly defaultTimeoutMs?: number;
  readonly logger?: Logger;
}

/** Loads computecore and returns the HcsApi over it; a library that cannot be loaded is Unavailable. */
export function createComputecoreHcsApi(opts: ComputecoreOptions): HcsApi {
  let lib: ComputecoreLibrary;
  try {
    lib = loadComputecore({
      computecore: opts.libraryPath,
      ...(opts.localFreeLibraryPath === undefined ? {} : { localFreeLibrary: opts.localFreeLibraryPath }),
    });
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new ShimError(ErrorCode.Unavailable, `${COMPUTECORE_NOT_FOUND} (loading ${opts.libraryPath}: ${why})`, { cause: err });
  }
  return new ComputecoreHcsApi(lib, opts.defaultTimeoutMs ?? DEFAULT_HCS_TIMEOUT_MS, opts.logger ?? rootLogger());
}

class ComputecoreHcsApi implements HcsApi {
  readonly backend = 'computecore' as const;
  private readonly router: EventRouter;

  constructor(
    private readonly lib: ComputecoreLibrary,
    private readonly defaultTimeoutMs: number,
    private readonly log: Logger,
  ) {
    this.router = new EventRouter(lib);
  }

  hostInfo(): Promise<HostInfo> {
    return Promise.resolve(computecoreHostInfo());
  }

  async createComputeSystem(id: string, document: ComputeSystem, opts?: HcsCallOptions): Promise<HcsSystem> {
    const json = toHcsJson(document, 'ComputeSystem');
    const out: unknown[] = [null];
    let handle: HcsSystemHandle | null = null;
    let nativeWait: Promise<unknown> = Promise.resolve();
    const closeHandle = async (): Promise<void> => {
      await whenSettled(nativeWait); // an aborted create's wait may still be running; its outcome is the create's
      if (handle !== null) await callAsync(this.lib.fn.HcsCloseComputeSystem, handle);
    };
    try {
      const base = this.opOptions('HcsCreateComputeSystem', id, opts);
      await runOperation(this.lib, { ...base, track: (p) => (nativeWait = p) }, async (op) => {
        const hr = asHresult(await callAsync(this.lib.fn.HcsCreateComputeSystem, id, json, op, null, out));
        handle = (out[0] ?? null) as HcsSystemHandle | null;
        return hr;
      });
    } catch (err) {
      // Reject now; the handle HCS returned is closed once the native wait has returned.
      void closeHandle().catch((e: unknown) => this.log.warn('closing abandoned compute system failed', { 'uvm-id': id, error: String(e) }));
      throw err;
    }
    return this.adopt(id, handle, 'HcsCreateComputeSystem');
  }

  async openComputeSystem(id: string, opts?: HcsCallOptions): Promise<HcsSystem> {
    if (opts?.signal?.aborted) throw new ShimError(ErrorCode.Canceled, `hcs::HcsOpenComputeSystem ${id}: canceled`);
    const out: unknown[] = [null];
    const hr = asHresult(await callAsync(this.lib.fn.HcsOpenComputeSystem, id, GENERIC_ALL, out));
    if (hr < 0) throw new HcsError({ operation: 'HcsOpenComputeSystem', hresult: hr, systemId: id });
    return this.adopt(id, (out[0] ?? null) as HcsSystemHandle | null, 'HcsOpenComputeSystem');
  }

  async enumerateComputeSystems(query: object = {}, opts?: HcsCallOptions): Promise<ComputeSystemSummary[]> {
    const json = JSON.stringify(query);
    const doc = await runOperation(this.lib, this.opOptions('HcsEnumerateComputeSystems', undefined, opts), async (op) =>
      asHresult(await callAsync(this.lib.fn.HcsEnumerateComputeSystems, json, op)),
    );
    if (doc === undefined) return [];
    const list = parseObject(doc, 'HcsEnumerateComputeSystems');
    if (!Array.isArray(list)) {
      throw new HcsError({ operation: 'HcsEnumerateComputeSystems', hresult: HResult.ErrInvalidData, message: 'result is not an array' });
    }
    return list.filter((e): e is ComputeSystemSummary => typeof e === 'object' && e !== null && typeof e.Id === 'string');
  }

  private async adopt(id: string, handle: HcsSystemHandle | null, operation: string): Promise<HcsSystem> {
    if (handle === null) throw new HcsError({ operation, hresult: HResult.E_FAIL, systemId: id, message: 'no handle returned' });
    const system = new ComputecoreSystem(id, handle, {
      lib: this.lib,
      router: this.router,
      defaultTimeoutMs: this.defaultTimeoutMs,
      log: this.log,
    });
    try {
      await system.registerEvents();
    } catch (err) {
      await system.close();
      throw err;
    }
    return system;
  }

  private opOptions(operation: string, systemId: string | undefined, opts: HcsCallOptions | undefined) {
    return {
      operation,
      ...(systemId === undefined ? {} : { systemId }),
      timeoutMs: opts?.timeoutMs ?? this.defaultTimeoutMs,
      ...(opts?.signal === undefined ? {} : { signal: opts.signal }),
    };
  }
}

/** Host facts for the computecore backend: Windows build from os.release() ("10.0.20348" → 20348). */
export function computecoreHostInfo(release = os.release(), arch = process.arch): HostInfo {
  const m = /^\d+\.\d+\.(\d+)/.exec(release);
  return {
    osBuild: m?.[1] === undefined ? 0 : Number(m[1]),
    logicalProcessors: os.availableParallelism(),
    pathFlavour: 'windows',
    arch: arch === 'arm64' ? 'arm64' : 'amd64',
  };
}
