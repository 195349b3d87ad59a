import path from 'node:path';
import { ErrorCode, ShimError } from '../errdefs/index.js';
import type { Logger } from '../log/index.js';
import type { HcsApi } from './hcs-api.js';
import { DEFAULT_THREADPOOL_SIZE, ensureThreadpoolSize } from './threadpool.js';

/**
 * Picks and builds the HCS backend, once per shim process:
 *   backend = opts.backend ?? $LCOW_HCS_BACKEND ?? (win32 ? 'computecore' : 'emulator').
 * computecore loads `opts.libraryPath ?? $LCOW_COMPUTECORE_PATH ?? %SystemRoot%\System32\computecore.dll`
 * (on Linux only an explicit path is available, e.g. the test double; LocalFree then comes from that
 * same library, on Windows from kernel32.dll). The emulator module is imported lazily so Windows builds
 * never load it. This file, src/transport and src/random are the only places that look at process.platform.
 */

export type HcsBackendName = 'computecore' | 'emulator';

export interface CreateHcsApiOptions {
  readonly backend?: HcsBackendName;
  readonly libraryPath?: string;
  /** Passed unchanged to the emulator's createEmulatorHcsApi. */
  readonly emulator?: unknown;
  readonly logger?: Logger;
  /** Defaults to process.env (injectable for tests). */
  readonly env?: NodeJS.ProcessEnv;
  /** Defaults to process.platform (injectable for tests). */
  readonly platform?: NodeJS.Platform;
}

/** What ./emulator/index.js provides (written separately; typed here so this file compiles without it). */
interface EmulatorModule {
  createEmulatorHcsApi(options?: unknown): HcsApi;
}

const BACKENDS: readonly string[] = ['computecore', 'emulator'];

/** The backend createHcsApi would pick for these options (an unknown name is returned as given). */
export function hcsBackendName(opts: Pick<CreateHcsApiOptions, 'backend' | 'env' | 'platform'> = {}): string {
  const env = opts.env ?? process.env;
  const platform = opts.platform ?? process.platform;
  return opts.backend ?? nonEmpty(env['LCOW_HCS_BACKEND']) ?? (platform === 'win32' ? 'computecore' : 'emulator');
}

/**
 * Sizes libuv's pool for the backend this process will use, before anything starts the pool (the shim's
 * `serve` entry calls it first). Only computecore needs the large pool: each blocking HCS wait (and, on
 * Windows, each blocking hvsocket accept/recv) holds a pool thread. The emulator blocks none (its sockets
 * are epoll-driven, its stdio FIFOs opened O_NONBLOCK, its guest a child process), so it keeps libuv's
 * default of 4 threads: 28 idle threads cost the daemon ~0.3 MB of stacks (issue 17). Returns the size set,
 * or undefined when left to libuv.
 */
export function ensureBackendThreadpool(opts: Pick<CreateHcsApiOptions, 'backend' | 'env' | 'platform'> = {}): number | undefined {
  if (hcsBackendName(opts) !== 'computecore') return undefined;
  return ensureThreadpoolSize(DEFAULT_THREADPOOL_SIZE, opts.env ?? process.env);
}

export async function createHcsApi(opts: CreateHcsApiOptions = {}): Promise<HcsApi> {
  const env = opts.env ?? process.env;
  const platform = opts.platform ?? process.platform;
  const chosen = hcsBackendName(opts);
  if (!BACKENDS.includes(chosen)) {
    throw new ShimError(ErrorCode.InvalidArgument, `unknown HCS backend "${chosen}" (expected "computecore" or "emulator")`);
  }
  return chosen === 'computecore' ? computecore(opts, env, platform) : emulator(opts);
}

async function computecore(opts: CreateHcsApiOptions, env: NodeJS.ProcessEnv, platform: NodeJS.Platform): Promise<HcsApi> {
  const explicit = opts.libraryPath ?? nonEmpty(env['LCOW_COMPUTECORE_PATH']);
  const system32 = path.win32.join(env['SystemRoot'] ?? 'C:\\Windows', 'System32');
  if (explicit === undefined && platform !== 'win32') {
    throw new ShimError(
      ErrorCode.Unavailable,
      `HCS backend "computecore" is unavailable on ${platform}: set LCOW_COMPUTECORE_PATH (or libraryPath) to a computecore-compatible library, or use the "emulator" backend`,
    );
  }
  ensureThreadpoolSize(DEFAULT_THREADPOOL_SIZE, env);
  // Imported lazily: importing the hcs barrel must not load koffi's native module.
  const { createComputecoreHcsApi } = await import('./computecore/api.js');
  return createComputecoreHcsApi({
    libraryPath: explicit ?? path.win32.join(system32, 'computecore.dll'),
    ...(platform === 'win32' ? { localFreeLibraryPath: path.win32.join(system32, 'kernel32.dll') } : {}),
    ...(opts.logger === undefined ? {} : { logger: opts.logger }),
  });
}

async function emulator(opts: CreateHcsApiOptions): Promise<HcsApi> {
  const specifier = './emulator/index.js';
  let mod: Partial<EmulatorModule>;
  try {
    // A literal path (the same as `specifier`), so that a bundler can follow it.
    mod = (await import('./emulator/index.js')) as Partial<EmulatorModule>;
  } catch (err) {
    throw new ShimError(ErrorCode.Unavailable, `HCS backend "emulator" is unavailable: cannot load ${specifier}`, { cause: err });
  }
  if (typeof mod.createEmulatorHcsApi !== 'function') {
    throw new ShimError(ErrorCode.Unavailable, `HCS backend "emulator" is unavailable: ${specifier} does not export createEmulatorHcsApi`);
  }
  return mod.createEmulatorHcsApi(opts.emulator);
}

const nonEmpty = (v: string | undefined): string | undefined => (v === undefined || v === '' ? undefined : v);
