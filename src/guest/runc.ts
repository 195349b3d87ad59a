/**
 * The runc driver. Every invocation runs `runc --root <vmDir>/runc ...` so containers of different VMs never
 * mix. Short commands (kill, delete, ps, update) run to completion with their output captured;
 * `run` and `exec` are spawned by process.ts in the FOREGROUND (not detached) so that runc stays the parent
 * of the container process, relays its stdio, forwards signals and exits with its status (128 + signal for
 * a signalled process) — Node cannot become a child subreaper, so this is how the guest gets exact exit
 * codes. Those long-running invocations write their own diagnostics to a `--log` file (JSON) because their
 * stderr is the container's.
 *
 * The binary is `runc` on PATH unless LCOW_GUEST_RUNC names another (tests use a fake).
 */
import { execFile } from 'node:child_process';
import { readFile, stat } from '../async/index.js';
import { join } from 'node:path';
import { ignoreErrno } from '../errdefs/index.js';
import { failed } from './errors.js';

export interface RuncResult {
  stdout: string;
  stderr: string;
}

export class Runc {
  constructor(
    readonly root: string,
    readonly binary: string = process.env['LCOW_GUEST_RUNC'] || 'runc',
  ) {}

  /** Global flags plus `args`: the argv (after the binary) of a runc invocation. */
  argv(args: readonly string[], logFile?: string): string[] {
    const global = ['--root', this.root];
    if (logFile) global.push('--log', logFile, '--log-format', 'json');
    return [...global, ...args];
  }

  /** Runs runc to completion; a non-zero exit is an E_FAIL carrying runc's message. */
  exec(args: readonly string[], timeoutMs = 60_000): Promise<RuncResult> {
    return new Promise((resolve, reject) => {
      execFile(this.binary, this.argv(args), { timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
        if (err) {
          const detail = runcMessage(stderr) || err.message;
          reject(failed(`runc ${args[0] ?? ''} failed: ${detail}`, err));
        } else resolve({ stdout, stderr });
      });
    });
  }

  async kill(id: string, signal: number, all = false): Promise<void> {
    await this.exec(['kill', ...(all ? ['--all'] : []), id, String(signal)]);
  }

  async delete(id: string, force = true): Promise<void> {
    await this.exec(['delete', ...(force ? ['--force'] : []), id]);
  }

  /**
   * Whether runc keeps state for `id`: its state dir `<root>/<id>` exists. A stat, not `runc state` (a
   * process start): `runc run` removes the dir itself once the init exits, so after an exit this is the
   * common answer, and any dir that is there goes to `runc delete`, which reports what is wrong with it.
   */
  async hasState(id: string): Promise<boolean> {
    return (await stat(join(this.root, id)).catch(ignoreErrno('ENOENT'))) !== undefined;
  }

  /** Pids of every process in the container's cgroup. */
  async ps(id: string): Promise<number[]> {
    const { stdout } = await this.exec(['ps', '--format', 'json', id]);
    const pids = JSON.parse(stdout.trim() || '[]') as unknown;
    return Array.isArray(pids) ? pids.filter((p): p is number => Number.isInteger(p)) : [];
  }

  /** `runc update --resources <file>` (an OCI LinuxResources document). */
  async update(id: string, resourcesFile: string): Promise<void> {
    await this.exec(['update', '--resources', resourcesFile, id]);
  }
}

/** The message of runc's stderr: the last logrus `msg="..."` if present, else the trimmed text. */
export function runcMessage(stderr: string): string {
  const lines = stderr.trim().split('\n').filter(Boolean);
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = /msg="((?:[^"\\]|\\.)*)"/.exec(lines[i]!);
    if (m) {
      try {
        return JSON.parse(`"${m[1]}"`) as string;
      } catch {
        return m[1]!;
      }
    }
  }
  return lines.join('; ');
}

/** The last error message in a runc `--log-format json` file ('' if none). */
export async function runcLogError(logFile: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(logFile, 'utf8');
  } catch {
    return '';
  }
  let last = '';
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const entry = JSON.parse(line) as { level?: string; msg?: string };
      if ((entry.level === 'error' || entry.level === 'fatal') && entry.msg) last = entry.msg;
    } catch {
      last = line;
    }
  }
  return last;
}
