/**
 * The machine-wide half of the emulator: HCS keeps its compute systems in a service, so any process can
 * open or enumerate them; the emulator has no service, so each VM dir carries a small record,
 * `<vmDir>/system.json`, written at create and rewritten on every state change by the process that owns
 * the VM. Another process (the shim's `delete` after a crash) finds a system by scanning the emulator
 * root for these records.
 *
 * Processes are named by pid AND start time (field 22 of /proc/<pid>/stat, clock ticks since boot), so a
 * recycled pid is never mistaken for the guest agent or the owner. A zombie counts as exited.
 */
import { readdir, readFile, rename, writeFile } from '../../async/index.js';
import { join } from 'node:path';
import { ignoreAbsent, ignoreErrno } from '../../errdefs/index.js';

export const RECORD_FILE = 'system.json';
export const RECORD_FORMAT = 'containerd-shim-lcow-v1/emulated-system@1';

/** A process as the record names it. */
export interface ProcessRef {
  readonly Pid: number;
  /** /proc/<pid>/stat field 22 (starttime), as the decimal string the kernel prints. */
  readonly StartTime: string;
}

export interface SystemRecord {
  readonly Format: typeof RECORD_FORMAT;
  readonly Id: string;
  readonly Owner?: string;
  readonly RuntimeId: string;
  readonly SystemType: 'VirtualMachine';
  /** The lifecycle state as HCS reports it. */
  readonly State: 'Created' | 'Running' | 'Stopped';
  readonly ExitType?: string;
  readonly TerminateOnLastHandleClosed: boolean;
  readonly MemoryMB: number;
  readonly ProcessorCount: number;
  /** The process that created the system and holds its handles. */
  readonly OwnerProcess: ProcessRef;
  /** The guest agent (leader of its own process group), once started. */
  readonly Guest?: ProcessRef;
  readonly GuestStartedAt?: string;
  /** The runc the creator's teardown uses (an opener may override it). */
  readonly RuncBinary: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Writes the record atomically (temp file + rename in the VM dir). */
export async function writeRecord(vmDir: string, record: SystemRecord): Promise<void> {
  const tmp = join(vmDir, `.${RECORD_FILE}.${process.pid}`);
  await writeFile(tmp, JSON.stringify(record), { mode: 0o600 });
  await rename(tmp, join(vmDir, RECORD_FILE));
}

/** The record of one VM dir, or undefined when it is missing, unreadable or not a record. */
export async function readRecord(vmDir: string): Promise<SystemRecord | undefined> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(join(vmDir, RECORD_FILE), 'utf8'));
  } catch {
    return undefined;
  }
  return isRecord(parsed) ? parsed : undefined;
}

/** Every record under the emulator root (only `<root>/<lower-case uuid>/system.json`), with its VM dir. */
export async function scanRecords(root: string): Promise<Array<{ vmDir: string; record: SystemRecord }>> {
  const out: Array<{ vmDir: string; record: SystemRecord }> = [];
  for (const name of (await readdir(root).catch(ignoreAbsent)) ?? []) {
    if (!UUID.test(name)) continue;
    const vmDir = join(root, name);
    const record = await readRecord(vmDir);
    if (record !== undefined && record.RuntimeId === name) out.push({ vmDir, record });
  }
  return out;
}

function isRecord(v: unknown): v is SystemRecord {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return r['Format'] === RECORD_FORMAT && typeof r['Id'] === 'string' && typeof r['RuntimeId'] === 'string'
    && (r['State'] === 'Created' || r['State'] === 'Running' || r['State'] === 'Stopped')
    && isProcessRef(r['OwnerProcess']) && (r['Guest'] === undefined || isProcessRef(r['Guest']))
    && typeof r['RuncBinary'] === 'string' && typeof r['TerminateOnLastHandleClosed'] === 'boolean';
}

function isProcessRef(v: unknown): v is ProcessRef {
  const p = v as { Pid?: unknown; StartTime?: unknown } | null;
  return typeof p === 'object' && p !== null && Number.isInteger(p.Pid) && (p.Pid as number) > 1 && typeof p.StartTime === 'string';
}

/** /proc/<pid>/stat as {state, startTime}, or undefined when there is no such process. */
async function procStat(pid: number): Promise<{ state: string; startTime: string } | undefined> {
  // No such process: ENOENT, or ESRCH when it exits between the open and the read.
  const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(ignoreErrno('ENOENT', 'ESRCH'));
  if (text === undefined) return undefined;
  // Fields after the parenthesised comm (which may contain spaces): state is field 3, starttime field 22.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  const startTime = fields[19];
  return state === undefined || startTime === undefined ? undefined : { state, startTime };
}

/** This process, or the process `pid` now, as a ProcessRef (undefined if it does not exist). */
export async function processRef(pid: number = process.pid): Promise<ProcessRef | undefined> {
  const st = await procStat(pid);
  return st === undefined ? undefined : { Pid: pid, StartTime: st.startTime };
}

/** True when `ref` still names a live (non-zombie) process: same pid, same start time. */
export async function isAlive(ref: ProcessRef | undefined): Promise<boolean> {
  if (ref === undefined) return false;
  const st = await procStat(ref.Pid);
  return st !== undefined && st.startTime === ref.StartTime && st.state !== 'Z' && st.state !== 'X';
}

/** True when some process (any, zombies included) has this pid. */
export async function pidExists(pid: number): Promise<boolean> {
  return (await procStat(pid)) !== undefined;
}

/** True when `ref`'s pid still names the same process (same start time), exited-but-unreaped included. */
export async function isSameProcess(ref: ProcessRef): Promise<boolean> {
  return (await procStat(ref.Pid))?.startTime === ref.StartTime;
}
