/**
 * kernel32's process queries through koffi (the second and last koffi import of src/transport, beside
 * winsock-ffi.ts), loaded on first use on Windows only: the identity of a process by pid (process-identity.ts).
 */
import { join } from 'node:path';
import koffi from 'koffi';
import type { ProcessIdentity } from './types.js';

/** OpenProcess access right enough for GetProcessTimes and QueryFullProcessImageNameW (Vista+). */
const PROCESS_QUERY_LIMITED_INFORMATION = 0x1000;
/** MAX_PATH is not enough for \\?\ paths; QueryFullProcessImageNameW takes the buffer size in characters. */
const IMAGE_CHARS = 32_768;

interface Kernel32 {
  OpenProcess(access: number, inherit: boolean, pid: number): unknown;
  CloseHandle(h: unknown): boolean;
  GetProcessTimes(h: unknown, created: bigint[], exited: bigint[], kernel: bigint[], user: bigint[]): boolean;
  QueryFullProcessImageNameW(h: unknown, flags: number, name: Buffer, size: number[]): boolean;
}

let k32: Kernel32 | undefined;

function kernel32(env: NodeJS.ProcessEnv): Kernel32 {
  if (k32 !== undefined) return k32;
  const lib = koffi.load(join(env['SystemRoot'] ?? env['SYSTEMROOT'] ?? 'C:\\Windows', 'System32', 'kernel32.dll'));
  k32 = {
    OpenProcess: lib.func('void * __stdcall OpenProcess(uint32_t access, bool inherit, uint32_t pid)') as Kernel32['OpenProcess'],
    CloseHandle: lib.func('bool __stdcall CloseHandle(void *h)') as Kernel32['CloseHandle'],
    // FILETIME is two DWORDs; read as one little-endian uint64.
    GetProcessTimes: lib.func(
      'bool __stdcall GetProcessTimes(void *h, _Out_ uint64_t *created, _Out_ uint64_t *exited, _Out_ uint64_t *kernel, _Out_ uint64_t *user)',
    ) as Kernel32['GetProcessTimes'],
    QueryFullProcessImageNameW: lib.func(
      'bool __stdcall QueryFullProcessImageNameW(void *h, uint32_t flags, uint8_t *name, _Inout_ uint32_t *size)',
    ) as Kernel32['QueryFullProcessImageNameW'],
  };
  return k32;
}

export function windowsProcessIdentity(pid: number, env: NodeJS.ProcessEnv = process.env): ProcessIdentity | undefined {
  const k = kernel32(env);
  const h = k.OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, false, pid);
  if (h === null || h === undefined || h === 0n) return undefined;
  try {
    const created = [0n];
    const exited = [0n];
    if (!k.GetProcessTimes(h, created, exited, [0n], [0n])) return undefined;
    // A process that has exited but whose object some handle still keeps is gone all the same.
    if (BigInt(exited[0] ?? 0) !== 0n) return undefined;
    const name = Buffer.alloc(IMAGE_CHARS * 2);
    const size = [IMAGE_CHARS];
    if (!k.QueryFullProcessImageNameW(h, 0, name, size)) return undefined;
    return { pid, startTime: String(created[0]), image: name.subarray(0, (size[0] ?? 0) * 2).toString('utf16le') };
  } finally {
    k.CloseHandle(h);
  }
}
