/**
 * Which process a pid is right now, so that `delete` never signals a process that merely reuses a dead shim's
 * pid: the process's creation time and executable image.
 *   Windows  kernel32 through koffi (windows-process-ffi.ts): OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION),
 *            GetProcessTimes (creation FILETIME, 100 ns since 1601) and QueryFullProcessImageNameW.
 *   Linux    /proc/<pid>/stat field 22 (start time in clock ticks since boot) and the /proc/<pid>/exe link.
 * A process that is gone (or that we may not query) has no identity: undefined.
 */
import { readFileSync, readlinkSync } from 'node:fs';
import type { ProcessIdentity } from './types.js';

/** True when `now` is the same process as the one `recorded` described (pid, start time and image). */
export function sameProcess(recorded: ProcessIdentity, now: ProcessIdentity | undefined): boolean {
  return now !== undefined && now.pid === recorded.pid && now.startTime === recorded.startTime && now.image.toLowerCase() === recorded.image.toLowerCase();
}

/** Parses a recorded identity (JSON); undefined when it is not one. */
export function parseProcessIdentity(text: string): ProcessIdentity | undefined {
  try {
    const v = JSON.parse(text) as Partial<ProcessIdentity>;
    if (Number.isInteger(v.pid) && typeof v.startTime === 'string' && v.startTime !== '' && typeof v.image === 'string' && v.image !== '') {
      return { pid: v.pid as number, startTime: v.startTime, image: v.image };
    }
  } catch {
    // not JSON: no identity
  }
  return undefined;
}

export function linuxProcessIdentity(pid: number, proc = '/proc'): ProcessIdentity | undefined {
  try {
    const stat = readFileSync(`${proc}/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid …": comm may hold spaces and parentheses, so split after the LAST ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const startTime = fields[19]; // field 22 overall; fields[0] is field 3 (state)
    if (startTime === undefined) return undefined;
    return { pid, startTime, image: readlinkSync(`${proc}/${pid}/exe`) };
  } catch {
    return undefined;
  }
}
