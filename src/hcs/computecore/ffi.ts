/**
 * The koffi import of src/hcs (src/transport has its own for Winsock and kernel32: the only two folders that touch koffi). Declares every computecore.dll export the shim uses (named
 * exactly as the export, like hcsshim's `//sys` lines) plus LocalFree, from one library path (and
 * kernel32 for LocalFree on Windows; the Linux test double exports LocalFree itself).
 *
 * Conventions (hvsocket-and-koffi.md §3): HRESULT is int32_t (never `long`), strings are char16_t
 * (never wchar_t), handles are opaque pointers that arrive as BigInt, and `_Out_ PWSTR*` result
 * documents come back as raw pointers that we decode and LocalFree exactly once.
 */
import koffi from 'koffi';
import type { NativeFn } from '../../transport/index.js';

/** An HCS handle as koffi hands it over (BigInt), branded so system and operation handles do not mix. */
export type HcsOperationHandle = bigint & { readonly __brand: 'HCS_OPERATION' };
export type HcsSystemHandle = bigint & { readonly __brand: 'HCS_SYSTEM' };

/** Types are registered by name in koffi's global registry, so they are declared once per process. */
const T = (() => {
  const HRESULT = koffi.alias('HRESULT', 'int32_t');
  const HCS_OPERATION = koffi.pointer('HCS_OPERATION', koffi.opaque());
  const HCS_SYSTEM = koffi.pointer('HCS_SYSTEM', koffi.opaque());
  const HCS_EVENT = koffi.struct('HCS_EVENT', {
    Type: 'uint32_t',
    EventData: 'const char16_t *',
    Operation: 'HCS_OPERATION',
  });
  const HCS_EVENT_CALLBACK = koffi.proto('void __stdcall HCS_EVENT_CALLBACK(HCS_EVENT *event, void *context)');
  return { HRESULT, HCS_OPERATION, HCS_SYSTEM, HCS_EVENT, HCS_EVENT_CALLBACK };
})();

const DECLS = {
  HcsCreateOperation: 'HCS_OPERATION __stdcall HcsCreateOperation(void *context, void *callback)',
  HcsCloseOperation: 'void __stdcall HcsCloseOperation(HCS_OPERATION operation)',
  HcsWaitForOperationResult:
    'HRESULT __stdcall HcsWaitForOperationResult(HCS_OPERATION operation, uint32_t timeoutMs, _Out_ void **resultDocument)',
  HcsGetOperationResult:
    'HRESULT __stdcall HcsGetOperationResult(HCS_OPERATION operation, _Out_ void **resultDocument)',
  HcsCreateComputeSystem:
    'HRESULT __stdcall HcsCreateComputeSystem(const char16_t *id, const char16_t *configuration, HCS_OPERATION operation, const void *securityDescriptor, _Out_ HCS_SYSTEM *computeSystem)',
  HcsOpenComputeSystem:
    'HRESULT __stdcall HcsOpenComputeSystem(const char16_t *id, uint32_t requestedAccess, _Out_ HCS_SYSTEM *computeSystem)',
  HcsStartComputeSystem:
    'HRESULT __stdcall HcsStartComputeSystem(HCS_SYSTEM computeSystem, HCS_OPERATION operation, const char16_t *options)',
  HcsShutDownComputeSystem:
    'HRESULT __stdcall HcsShutDownComputeSystem(HCS_SYSTEM computeSystem, HCS_OPERATION operation, const char16_t *options)',
  HcsTerminateComputeSystem:
    'HRESULT __stdcall HcsTerminateComputeSystem(HCS_SYSTEM computeSystem, HCS_OPERATION operation, const char16_t *options)',
  HcsCloseComputeSystem: 'void __stdcall HcsCloseComputeSystem(HCS_SYSTEM computeSystem)',
  HcsGetComputeSystemProperties:
    'HRESULT __stdcall HcsGetComputeSystemProperties(HCS_SYSTEM computeSystem, HCS_OPERATION operation, const char16_t *propertyQuery)',
  HcsModifyComputeSystem:
    'HRESULT __stdcall HcsModifyComputeSystem(HCS_SYSTEM computeSystem, HCS_OPERATION operation, const char16_t *configuration, void *identity)',
  HcsSetComputeSystemCallback:
    'HRESULT __stdcall HcsSetComputeSystemCallback(HCS_SYSTEM computeSystem, uint32_t callbackOptions, const void *context, HCS_EVENT_CALLBACK *callback)',
  HcsEnumerateComputeSystems:
    'HRESULT __stdcall HcsEnumerateComputeSystems(const char16_t *query, HCS_OPERATION operation)',
} as const;

/** Documented as not implemented (E_NOTIMPL) and possibly absent: bound when present. */
const OPTIONAL_DECLS = {
  HcsCancelOperation: 'HRESULT __stdcall HcsCancelOperation(HCS_OPERATION operation)',
} as const;

const LOCAL_FREE = 'void * __stdcall LocalFree(void *hMem)';

export type ComputecoreExports = { readonly [K in keyof typeof DECLS]: NativeFn } & {
  readonly HcsCancelOperation: NativeFn | undefined;
  readonly LocalFree: NativeFn;
};

/** The loaded library: raw exports plus the few helpers that need koffi itself. */
export interface ComputecoreLibrary {
  readonly fn: ComputecoreExports;
  readonly path: string;
  /** Reads a NUL-terminated UTF-16 string at `ptr` (a BigInt from an `_Out_ void **`). */
  decodeString16(ptr: unknown): string;
  /** Registers the one process-wide HCS_EVENT_CALLBACK; returns the function pointer. */
  registerEventCallback(fn: (event: RawHcsEvent, context: bigint) => void): unknown;
  unregisterEventCallback(ptr: unknown): void;
}

/** HCS_EVENT as decoded inside the callback; EventData is copied into a JS string (or null). */
export interface RawHcsEvent {
  readonly Type: number;
  readonly EventData: string | null;
}

export interface LoadPaths {
  /** computecore.dll (Windows: absolute path in System32) or the test double. */
  readonly computecore: string;
  /** Where LocalFree lives (Windows: kernel32.dll); defaults to the computecore library itself. */
  readonly localFreeLibrary?: string;
}

/** Loads the library and binds every export; throws koffi's errors unchanged (the caller wraps them). */
export function loadComputecore(paths: LoadPaths): ComputecoreLibrary {
  const lib = koffi.load(paths.computecore);
  const freeLib = paths.localFreeLibrary === undefined ? lib : koffi.load(paths.localFreeLibrary);
  const bound: Record<string, NativeFn | undefined> = {};
  for (const [name, decl] of Object.entries(DECLS)) bound[name] = lib.func(decl) as NativeFn;
  for (const [name, decl] of Object.entries(OPTIONAL_DECLS)) {
    try {
      bound[name] = lib.func(decl) as NativeFn;
    } catch {
      bound[name] = undefined; // export missing on this build: cancellation is then a no-op
    }
  }
  bound['LocalFree'] = freeLib.func(LOCAL_FREE) as NativeFn;
  return {
    fn: bound as unknown as ComputecoreExports,
    path: paths.computecore,
    decodeString16: (ptr) => koffi.decode.string16(ptr),
    registerEventCallback: (fn) =>
      koffi.register((evPtr: unknown, ctx: unknown) => {
        const ev = koffi.decode(evPtr, T.HCS_EVENT) as { Type: number; EventData: string | null };
        fn({ Type: ev.Type >>> 0, EventData: ev.EventData ?? null }, BigInt((ctx ?? 0) as bigint | number));
      }, koffi.pointer(T.HCS_EVENT_CALLBACK)),
    unregisterEventCallback: (ptr) => koffi.unregister(ptr as bigint),
  };
}
