/**
 * One process the guest started: a container's init (`runc run`), an exec (`runc exec`) or a process in the
 * "VM" itself (spawned directly). The guest's child is runc in the foreground, so the child's exit status IS
 * the container process's (runc reports 128 + signal for a signalled process); the pid the host sees is
 * the container process's, read from runc's --pid-file.
 *
 * TTY processes: runc in the foreground needs a terminal of its own to relay the container's pty, so the
 * child is `script -q -e -E never -c '<runc …>' /dev/null` (util-linux), which gives runc a pty and relays
 * it to our pipes. Resizing sets the window size on the container process's own terminal: `stty -F
 * /proc/<pid>/fd/0 rows H cols W` (the fd is the container pty's slave; the kernel then sends SIGWINCH to
 * the foreground process group). This avoids receiving the pty master over runc's console socket, which
 * Node cannot do (no SCM_RIGHTS).
 *
 * Lifecycle:  launching --pid known--> running --child exit + output drained + host closed stdio--> exited
 *             launching --child exit first--> failed (launch rejects with runc's error)
 *
 * Stdio close handshake (as the real GCS, internal/guest/stdio copyAndCleanClose): for every stdout/stderr
 * connection of a non-TTY process, after the last byte the guest half-closes its side, then keeps reading
 * until the HOST closes the connection; only when every output connection is closed does the process count
 * as exited (WaitForProcess answers, the container notification goes out). A host that never closes its
 * end waits forever, exactly as with Microsoft's GCS. TTY output is a plain copy (no wait).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import type { Socket } from 'node:net';
import { constants as osConstants } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { basename, dirname } from 'node:path';
import { ignoreErrno, trySync } from '../errdefs/index.js';
import { failed, notImpl } from './errors.js';
import type { GuestLogger } from './log.js';
import { runcLogError } from './runc.js';

export interface StdioSockets {
  stdin?: Socket;
  stdout?: Socket;
  stderr?: Socket;
}

export type ProcessKind = 'init' | 'exec' | 'external';

export interface LaunchSpec {
  kind: ProcessKind;
  command: string;
  args: readonly string[];
  tty: boolean;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** runc writes the container process's pid here; required for init and exec. */
  pidFile?: string;
  /** runc's --log file, read for the error when the launch fails. */
  logFile?: string;
}

/** Quotes one word for sh -c. */
export const shellQuote = (s: string): string => (/^[A-Za-z0-9_./=:@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** Exit status of a child: its exit code, or 128 + signal number when a signal ended it. */
export function exitStatusOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  const n = signal ? (osConstants.signals as Record<string, number>)[signal] : undefined;
  return 128 + (n ?? 0);
}

function relayOut(src: Readable | null, dst: Socket | undefined, log: GuestLogger, stream: string): void {
  if (!src) return;
  if (!dst) {
    src.resume();
    return;
  }
  dst.on('error', (err) => {
    log.debug('stdio relay closed by host', { stream, error: err });
    src.unpipe(dst);
    src.resume();
  });
  src.pipe(dst);
}

function relayIn(src: Socket | undefined, dst: Writable | null, log: GuestLogger): void {
  if (!dst) return;
  dst.on('error', (err) => log.debug('process stdin closed', { error: err }));
  if (!src) return;
  src.on('error', (err) => log.debug('stdin relay error', { error: err }));
  // pipe() ends the process's stdin when the host half-closes its side (stdin EOF).
  src.pipe(dst);
}

/**
 * The handshake's second half for one output connection: resolves once the host closed it (its EOF or
 * reset). Whatever the host still sends is read and dropped.
 */
export function hostClosed(sock: Socket | undefined): Promise<void> {
  if (!sock || sock.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    sock.once('close', () => resolve());
    sock.on('error', () => undefined); // a reset is a close too; 'close' follows
    sock.once('end', () => sock.destroy());
    sock.resume();
  });
}

/** A process the guest agent launched (runc for a container's init or exec, or a process in the VM itself). */
export class AgentProcess {
  pid = 0;
  exitStatus: number | undefined;
  /** Resolves with the exit status once the process exited AND its stdio handshake completed. */
  readonly exited: Promise<number>;
  /** Resolves with the exit status once the child exited and its pipes drained (launch failures use this). */
  private readonly childDone: Promise<number>;
  readonly tty: boolean;
  readonly kind: ProcessKind;
  private readonly child: ChildProcess;
  private childExited = false;

  private constructor(
    spec: LaunchSpec,
    private readonly stdio: StdioSockets,
    log: GuestLogger,
  ) {
    this.tty = spec.tty;
    this.kind = spec.kind;
    let command = spec.command;
    let args = [...spec.args];
    const env = { ...(spec.env ?? process.env) };
    if (spec.tty) {
      args = ['-q', '-e', '-E', 'never', '-c', [command, ...args].map(shellQuote).join(' '), '/dev/null'];
      command = 'script';
      env['SHELL'] = '/bin/sh';
    }
    const wantIn = stdio.stdin !== undefined || spec.tty; // a tty keeps a stdin pipe open (script sends EOF on close)
    this.child = spawn(command, args, {
      cwd: spec.cwd,
      env,
      stdio: [wantIn ? 'pipe' : 'ignore', stdio.stdout ? 'pipe' : 'ignore', stdio.stderr || spec.tty ? 'pipe' : 'ignore'],
    });
    relayIn(stdio.stdin, this.child.stdin, log);
    relayOut(this.child.stdout, stdio.stdout, log, 'stdout');
    if (spec.tty && this.child.stderr) {
      this.child.stderr.on('data', (d: Buffer) => log.warn('tty helper stderr', { output: d.toString('utf8').trim() }));
    } else relayOut(this.child.stderr, stdio.stderr, log, 'stderr');

    let childDone!: (exitStatus: number) => void;
    this.childDone = new Promise<number>((resolve) => (childDone = resolve));
    this.exited = new Promise<number>((resolve) => {
      let exitStatus = 0;
      this.child.once('exit', (c, s) => {
        this.childExited = true;
        exitStatus = exitStatusOf(c, s);
      });
      this.child.once('error', (err) => {
        this.childExited = true;
        exitStatus = 255;
        log.error('process failed to start', { error: err });
      });
      // 'close' follows 'exit' once the child's stdio pipes are drained (pipe() has half-closed our sockets).
      this.child.once('close', () => {
        this.childExited = true;
        this.exitStatus = exitStatus;
        childDone(exitStatus);
        this.stdio.stdin?.destroy();
        const outputs = [this.stdio.stdout, this.stdio.stderr];
        if (this.tty) {
          // A TTY relay is a plain copy: flushed, then released.
          void Promise.all(outputs.map((o) => this.flushed(o))).then(() => {
            for (const o of outputs) o?.destroy();
            resolve(exitStatus);
          });
          return;
        }
        void Promise.all(outputs.map((o) => hostClosed(o))).then(() => resolve(exitStatus));
      });
    });
  }

  private flushed(sock: Socket | undefined): Promise<void> {
    if (!sock || sock.destroyed || sock.writableFinished) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => resolve();
      sock.once('finish', done);
      sock.once('close', done);
      sock.once('error', done);
      setTimeout(done, 5000).unref();
    });
  }

  /** Starts the process; resolves once its pid is known. Rejects (E_FAIL) when it cannot start. */
  static async launch(spec: LaunchSpec, stdio: StdioSockets, log: GuestLogger): Promise<AgentProcess> {
    const p = new AgentProcess(spec, stdio, log);
    await p.waitForPid(spec);
    return p;
  }

  private async waitForPid(spec: LaunchSpec): Promise<void> {
    if (!spec.pidFile) {
      await new Promise<void>((resolve, reject) => {
        this.child.once('spawn', resolve);
        this.child.once('error', (err) => reject(failed(`failed to start ${spec.command}`, err)));
      });
      this.pid = this.child.pid ?? 0;
      return;
    }
    // Woken by the pid file's directory (inotify: runc renames a finished temporary file into place) and by
    // runc's exit, never by a timer; each wake re-reads the file. The watch exists before the first read, and
    // each wake-up promise before its read, so a file that appears at any point is seen.
    const pidFile = spec.pidFile;
    let wake = (): void => {};
    const onChildGone = (): void => wake(); // 'exit', or 'error' when it never started
    let watcher: FSWatcher | undefined;
    try {
      watcher = watch(dirname(pidFile), { persistent: false }, (_event, name) => {
        if (name === null || name === basename(pidFile)) wake();
      });
      watcher.on('error', onChildGone); // no more events: runc's exit still wakes the loop
    } catch {
      // No such directory: runc cannot write the file there either, and its exit ends the wait.
    }
    this.child.once('exit', onChildGone).once('error', onChildGone);
    try {
      for (;;) {
        const woken = new Promise<void>((resolve) => (wake = resolve));
        // Read whether runc had exited BEFORE reading the file: a fast process (`/bin/true`) lets runc write
        // the pid file and exit while the read is in flight, and that exit is no failure.
        const exitedBeforeRead = this.childExited;
        // A synchronous read of a few bytes (a thread-pool round trip per open, stat, read and close costs more).
        const text = trySync(() => readFileSync(pidFile, 'utf8'), ignoreErrno('ENOENT')) ?? ''; // not written yet
        const pid = Number.parseInt(text.trim(), 10);
        if (Number.isInteger(pid) && pid > 0) {
          this.pid = pid;
          return;
        }
        if (exitedBeforeRead) {
          const exitStatus = await this.childDone;
          const why = (spec.logFile && (await runcLogError(spec.logFile))) || `exit status ${exitStatus}`;
          throw failed(`runc ${spec.kind === 'init' ? 'run' : 'exec'} failed: ${why}`);
        }
        await woken;
      }
    } finally {
      watcher?.close();
      this.child.off('exit', onChildGone).off('error', onChildGone);
    }
  }

  /** Sends a signal to the process itself (exec and external processes; the init goes through runc kill). */
  signal(sig: number): void {
    if (this.exitStatus !== undefined) return;
    if (this.kind === 'external') this.child.kill(sig);
    else process.kill(this.pid, sig);
  }

  /** Sets the terminal size of a tty process. */
  async resize(height: number, width: number): Promise<void> {
    if (!this.tty) throw failed(`process ${this.pid} has no console`);
    if (this.kind === 'external') throw notImpl('resizing the console of a process in the utility VM is not supported');
    await new Promise<void>((resolve, reject) => {
      execFile('stty', ['-F', `/proc/${this.pid}/fd/0`, 'rows', String(height), 'cols', String(width)], (err, _o, stderr) => {
        if (err) reject(failed(`resize console of process ${this.pid}: ${stderr.trim() || err.message}`, err));
        else resolve();
      });
    });
  }

  /** Kills the local child (runc / script / the external process) — the last resort on agent shutdown. */
  killChild(): void {
    if (!this.childExited) this.child.kill('SIGKILL');
  }
}
