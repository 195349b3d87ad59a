/**
 * `start` for platforms whose serving endpoint cannot be inherited (Windows named pipes; transport
 * serveMode 'ready-handshake'), as hcsshim's runhcs v1 shim does it:
 *
 *   start                                      serve (child, detached)
 *   ─────                                      ─────
 *   spawn `… serve -socket <pipe>`   ──────▶   listens on <pipe>, registers the Task service
 *     stdin = NUL, stdout = a pipe,                (its log level: start's choice, in its environment)
 *     stderr = <bundle>/panic.log
 *   wait for the READY signal       ◀──────   writes READY_SIGNAL to its stdout
 *   write <bundle>/shim.pid, <bundle>/address (atomically, no newline), print the address, exit
 *
 * hcsshim's child closes its stdout instead; a byte is used here because EOF alone cannot tell a child that
 * serves from one that is dying. The child exiting first, a spawn error, or no signal within `timeoutMs` fails `start` with the tail of
 * panic.log in the message; a child that did not signal in time is killed.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ErrorCode, ShimError } from '../errdefs/index.js';

/** What the child writes to its stdout once it serves. */
export const READY_SIGNAL = 'serving\n';
/** How much of panic.log a failure message quotes. */
const PANIC_TAIL_BYTES = 2048;

export interface ReexecOptions {
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  /** The child's stderr (appended); quoted when the child fails before serving. */
  readonly panicLog: string;
  /** Default 30 s. */
  readonly timeoutMs?: number;
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * The argv prefix that re-runs this program: normally [script] (node runs it), but a single executable
 * application IS the program, and Node repeats its path as argv[1]; that copy is dropped.
 */
export function selfArgv(argv0: readonly string[], execPath: string = process.execPath): string[] {
  const out = [...argv0];
  if (out.length > 0 && out[out.length - 1] === execPath) out.pop();
  return out;
}

function panicTail(path: string): string {
  try {
    const text = readFileSync(path, 'utf8').trim();
    return text === '' ? '' : `: ${text.slice(-PANIC_TAIL_BYTES)}`;
  } catch {
    return '';
  }
}

/** Spawns the serving child and resolves with its pid once it signals READY. */
export function spawnAndAwaitServing(opts: ReexecOptions): Promise<number> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const errFd = openSync(opts.panicLog, 'a');
  return new Promise<number>((resolve, reject) => {
    const child = spawn(opts.command, [...opts.args], {
      cwd: opts.cwd,
      detached: true,
      windowsHide: true,
      stdio: ['ignore', 'pipe', errFd],
      env: opts.env ?? process.env,
    });
    closeSync(errFd);
    let settled = false;
    const stdout = child.stdout;
    const finish = (err: ShimError | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      stdout?.destroy();
      child.removeAllListeners('exit');
      if (err !== undefined) {
        if (child.exitCode === null && child.signalCode === null) child.kill();
        reject(err);
        return;
      }
      child.unref();
      resolve(child.pid ?? 0);
    };
    const timer = setTimeout(() => {
      finish(new ShimError(ErrorCode.DeadlineExceeded, `shim serve (pid ${child.pid}) did not signal it was serving within ${timeoutMs} ms${panicTail(opts.panicLog)}`));
    }, timeoutMs);
    child.once('error', (err) => finish(ShimError.from(err, ErrorCode.Unknown, `spawn shim serve ${opts.command}`)));
    child.once('exit', (code, signal) => {
      const how = signal === null ? `exit status ${code}` : `signal ${signal}`;
      finish(new ShimError(ErrorCode.Unknown, `shim serve exited (${how}) before serving${panicTail(opts.panicLog)}`));
    });
    // Only the byte counts: EOF alone could be a child that is dying (its 'exit' then reports it).
    stdout?.once('data', () => finish(undefined));
  });
}

/** The child's half: tell `start` we serve. Later stdout errors (start is gone) are ignored. */
export function signalServing(): void {
  process.stdout.on('error', () => {}); // start is gone: nobody to tell (above)
  try {
    writeSync(1, READY_SIGNAL);
  } catch {
    // start already gave up on us; nothing to tell.
  }
}

/**
 * Writes a file atomically (temp file + rename), with no trailing newline; any path separator. When the
 * write or the rename fails, the temp file is removed before the error is thrown: nothing of it is left.
 */
export function writeFileAtomic(path: string, text: string): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}`);
  try {
    writeFileSync(tmp, text, { mode: 0o644 });
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}
