/**
 * The guest's one way of running a system tool to completion (mount(8), umount(8), mkfs.ext4): the mounts,
 * the disks and the pod's sandbox mounts all run theirs through it. A non-zero exit is an E_FAIL naming the
 * command line and carrying the tool's stderr (or, when it printed none, its exit status or the signal that
 * ended it); a tool that cannot be started is an E_FAIL with the spawn error. Only stderr is a pipe (the
 * tools print nothing else we read): one pipe and its close fewer per run than execFile's capture of stdout.
 * `executable` is the guest's one check that a tool (BusyBox, a command on a process's PATH) can be run.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { failed } from './errors.js';

/** Kept of a tool's stderr for its error message. */
const STDERR_KEEP = 64 << 10;

/** How long a tool may run before it is sent SIGTERM (and so fails); mkfs of a large disk passes more. */
export const TOOL_TIMEOUT_MS = 60_000;

export function runTool(cmd: string, args: readonly string[], timeoutMs = TOOL_TIMEOUT_MS): Promise<void> {
  return new Promise((resolve, reject) => {
    const what = `${cmd} ${args.join(' ')}`;
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: timeoutMs });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < STDERR_KEEP) stderr += d;
    });
    let settled = false;
    child.once('error', (err) => {
      if (!settled) reject(failed(`${what}: ${err.message}`, err));
      settled = true;
    });
    child.once('close', (code, signal) => {
      if (settled) return;
      settled = true;
      if (code === 0) resolve();
      else reject(failed(`${what}: ${stderr.trim() || (signal ? `killed by ${signal}` : `exit status ${String(code)}`)}`));
    });
  });
}

/** Whether `file` exists and this process may execute it (a tool, or a command on PATH). */
export function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false; // missing or not executable
  }
}
