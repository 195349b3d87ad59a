/**
 * The Winsock binding: one of the two koffi imports of src/transport (windows-process-ffi.ts is the other). Declares every ws2_32.dll export the
 * hvsocket transport calls, named exactly as the export, from one library path (Windows:
 * %SystemRoot%\System32\ws2_32.dll; tests: the Linux double test/fixtures/ws2_32-double.c).
 *
 * Conventions (hvsocket-and-koffi.md §3, §10.1):
 * - SOCKET is declared `intptr_t`, so INVALID_SOCKET (~0) reads back as -1 and handles are plain
 *   numbers (the C side is UINT_PTR; the bits are the same).
 * - accept/recv/send block: callers use `.async` (libuv threadpool), never the sync form.
 * - The WSA error code of a failed call is read with WSAGetLastError() on the main thread right after the
 *   call returns: synchronously after a sync call, and synchronously INSIDE the `.async` completion
 *   callback after an async one (koffi restores the worker thread's last error there), never later.
 */
import { join } from 'node:path';
import koffi from 'koffi';

/** A SOCKET handle as koffi hands it over (intptr_t: a number; -1 is INVALID_SOCKET). */
export type SocketHandle = number & { readonly __brand: 'SOCKET' };

export const INVALID_SOCKET = -1;
export const SOCKET_ERROR = -1;
/** shutdown() `how`: stop sending (the peer reads EOF). */
export const SD_SEND = 1;
export const SD_BOTH = 2;
/** WSAStartup version 2.2, as MAKEWORD(2, 2). */
export const WINSOCK_VERSION_2_2 = 0x0202;
/** sizeof(WSADATA) on x64 is 408; a larger buffer is harmless. */
const WSADATA_BYTES = 512;

const DECLS = {
  WSAStartup: 'int __stdcall WSAStartup(uint16_t wVersionRequested, void *lpWSAData)',
  WSAGetLastError: 'int __stdcall WSAGetLastError(void)',
  socket: 'intptr_t __stdcall socket(int af, int type, int protocol)',
  bind: 'int __stdcall bind(intptr_t s, const void *name, int namelen)',
  listen: 'int __stdcall listen(intptr_t s, int backlog)',
  accept: 'intptr_t __stdcall accept(intptr_t s, void *addr, void *addrlen)',
  recv: 'int __stdcall recv(intptr_t s, void *buf, int len, int flags)',
  send: 'int __stdcall send(intptr_t s, const void *buf, int len, int flags)',
  shutdown: 'int __stdcall shutdown(intptr_t s, int how)',
  closesocket: 'int __stdcall closesocket(intptr_t s)',
} as const;

/** A bound export: callable synchronously, and through `.async(...args, cb)` on the libuv threadpool. */
export type NativeFn = ((...args: unknown[]) => unknown) & {
  async: (...args: unknown[]) => void;
};

export type WinsockExports = { readonly [K in keyof typeof DECLS]: NativeFn };

export interface WinsockLibrary {
  readonly fn: WinsockExports;
  readonly path: string;
}

/** The system ws2_32.dll, by absolute path (never a bare name: no DLL search-order surprises). */
export function systemWinsockPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env['SystemRoot'] ?? env['SYSTEMROOT'] ?? 'C:\\Windows', 'System32', 'ws2_32.dll');
}

const loaded = new Map<string, WinsockLibrary>();

/**
 * Loads the library once per path, binds every export and calls WSAStartup(2.2) once (libuv already
 * initialised Winsock in a Node process on Windows; the extra reference is harmless and makes the
 * binding self-contained). Throws koffi's load errors, or an Error carrying `wsaCode` when WSAStartup fails.
 */
export function loadWinsock(path: string): WinsockLibrary {
  const cached = loaded.get(path);
  if (cached !== undefined) return cached;
  const lib = koffi.load(path);
  const bound: Record<string, NativeFn> = {};
  for (const [name, decl] of Object.entries(DECLS)) bound[name] = lib.func(decl) as NativeFn;
  const fn = bound as unknown as WinsockExports;
  const rc = fn.WSAStartup(WINSOCK_VERSION_2_2, Buffer.alloc(WSADATA_BYTES)) as number;
  if (rc !== 0) throw Object.assign(new Error(`WSAStartup failed with ${rc}`), { wsaCode: rc });
  const out: WinsockLibrary = { fn, path };
  loaded.set(path, out);
  return out;
}

/** A call's result: the return value, and WSAGetLastError() when it was -1 (INVALID_SOCKET/SOCKET_ERROR). */
export interface CallResult {
  readonly value: number;
  /** 0 when the call succeeded. */
  readonly wsaCode: number;
}

const asNumber = (v: unknown): number => (typeof v === 'bigint' ? Number(BigInt.asIntN(64, v)) : (v as number));

/** Calls a non-blocking export on the main thread, reading the WSA code at once on failure. */
export function callSync(lib: WinsockLibrary, name: keyof WinsockExports, ...args: unknown[]): CallResult {
  const value = asNumber(lib.fn[name](...args));
  return { value, wsaCode: value === -1 ? (lib.fn.WSAGetLastError() as number) : 0 };
}

/**
 * Calls a blocking export on a libuv threadpool thread. The WSA code is read inside koffi's completion
 * callback, where koffi has restored the worker thread's last error. Rejects only when koffi itself fails
 * (e.g. more than max_async_calls queued).
 */
export function callAsync(lib: WinsockLibrary, name: keyof WinsockExports, ...args: unknown[]): Promise<CallResult> {
  return new Promise((resolve, reject) => {
    lib.fn[name].async(...args, (err: Error | null, ret: unknown) => {
      if (err !== null) {
        reject(err);
        return;
      }
      const value = asNumber(ret);
      resolve({ value, wsaCode: value === -1 ? (lib.fn.WSAGetLastError() as number) : 0 });
    });
  });
}
