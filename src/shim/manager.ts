import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { alreadyExists, invalidArgument } from '../errdefs/index.js';
import { parseProcessIdentity, sameProcess, unixSocketPath, type PlatformTransport } from '../transport/index.js';
import type { StartInput } from './bootstrap.js';
import { cleanupAfterShim } from './cleanup.js';
import { hasCriAnnotations } from './cri-bundle.js';
import { listenSocket } from './listen-socket.js';
import { LISTEN_FD_ENV } from './serve-listener.js';
import { encodeDeleteResponse } from './delete-response.js';
import { readPanicLog } from './panic-log.js';
import type { ShimFlags } from './flags.js';
import { selfArgv, spawnAndAwaitServing, writeFileAtomic } from './reexec-start.js';
import { releasedByDaemon } from './released-marker.js';
import { logStartMilestone } from './shim-log.js';
import { daemonStartEnv, useSocketDir } from './start-env.js';
import { shimSocketPath, unixAddress } from './socket-address.js';

/** Exit status reported by `delete` for a task whose real status is unknown (hcsshim: 255). */
const UNKNOWN_EXIT_STATUS = 255;
/** Beside shim.pid (Windows): who that pid was when `start` recorded it (JSON ProcessIdentity). */
export const SHIM_IDENTITY_FILE = 'shim.identity';

function requireIds(flags: ShimFlags): void {
  if (flags.namespace === '') throw invalidArgument('-namespace is required');
  if (flags.id === '') throw invalidArgument('-id is required');
}

/**
 * `start`: a pod's workload container joins its pod's shim (join-pod.ts). Otherwise (a standalone task or a
 * pod's sandbox): listen on the shim socket BEFORE returning, launch the daemon detached (own session, stdio to
 * /dev/null, the listening socket as fd 3), write `address` and `shim.pid` into the bundle, and return the
 * address (entry.ts turns it into the reply containerd expects: bootstrap.ts). containerd reads stdout+stderr
 * combined, so nothing else may be printed. `input` is what containerd wrote to stdin (bootstrap.ts).
 */
export async function startShim(flags: ShimFlags, argv0: readonly string[], transport: PlatformTransport,
  input: StartInput = {}): Promise<string> {
  const began = new Date();
  requireIds(flags);
  useSocketDir(input);
  const bundle = flags.bundle || process.cwd();
  if (hasCriAnnotations(bundle)) {
    const { startInPod } = await import('./join-pod.js');
    const podAddress = await startInPod(flags, bundle, transport);
    if (podAddress !== undefined) return podAddress; // a workload: served by its pod's shim
  }
  if (transport.serveMode === 'ready-handshake') return startWithHandshake(flags, argv0, transport, input);
  if (flags.debug) logStartMilestone(bundle, { namespace: flags.namespace, tid: flags.id }, began.toISOString());
  const path = shimSocketPath(flags.address, flags.namespace, flags.id);
  await refuseLiveSocket(path);
  // Bind under a temporary name and rename: libuv unlinks a unix socket's bound path when this process
  // exits, and the path must outlive `start` (the daemon serves it through the inherited descriptor).
  const tmpPath = unixSocketPath(`${path}.${process.pid}`); // too long for sun_path: a clear error, not a truncated bind
  const server = await listenSocket(tmpPath);
  renameSync(tmpPath, path);
  const handle = (server as unknown as { _handle?: { fd?: number } })._handle;
  const fd = handle?.fd;
  if (fd === undefined || fd < 0) throw new Error(`cannot pass the listening socket ${path} to the daemon`);
  const args = [...argv0, '-namespace', flags.namespace, '-id', flags.id, '-address', flags.address,
    '-publish-binary', flags.publishBinary, '-bundle', bundle, '-socket', path];
  if (flags.debug) args.push('-debug');
  args.push('serve');
  const devnull = openSync('/dev/null', 'r+');
  const child = spawn(process.execPath, args, {
    cwd: bundle,
    detached: true,
    stdio: [devnull, devnull, devnull, fd],
    env: { ...process.env, [LISTEN_FD_ENV]: '3', ...daemonStartEnv(input, flags.debug) },
  });
  closeSync(devnull);
  child.unref();
  const address = unixAddress(path);
  writeFileAtomic(join(bundle, 'address'), address);
  writeFileAtomic(join(bundle, 'shim.pid'), String(child.pid ?? ''));
  server.unref(); // exit now; the daemon keeps serving the socket

  return address;
}

/**
 * `start` where the endpoint cannot be inherited (Windows named pipes): refuse a pipe some shim already
 * serves, re-exec `serve -socket <pipe>` (the log level start chose in its environment) and wait until it
 * says it serves (reexec-start.ts), then write `shim.pid`, `shim.identity` (its start time and
 * image, for a safe `delete`) and `address` into the bundle and return the address.
 */
async function startWithHandshake(flags: ShimFlags, argv0: readonly string[], transport: PlatformTransport, input: StartInput): Promise<string> {
  const bundle = flags.bundle || process.cwd();
  const address = transport.shimAddress(flags.namespace, flags.id, flags.address);
  const live = await transport.dial(address).then(
    (c) => (c.destroy(), true),
    () => false,
  );
  if (live) throw alreadyExists(`a shim is already serving ${address}`);
  const args = [...selfArgv(argv0), '-namespace', flags.namespace, '-id', flags.id, '-address', flags.address,
    '-publish-binary', flags.publishBinary, '-bundle', bundle, '-socket', address];
  if (flags.debug) args.push('-debug');
  args.push('serve');
  const pid = await spawnAndAwaitServing({ command: process.execPath, args, cwd: bundle, panicLog: join(bundle, 'panic.log'),
    env: { ...process.env, ...daemonStartEnv(input, flags.debug) } });
  const identity = await transport.processIdentity(pid);
  if (identity !== undefined) writeFileAtomic(join(bundle, SHIM_IDENTITY_FILE), JSON.stringify(identity));
  writeFileAtomic(join(bundle, 'shim.pid'), String(pid));
  writeFileAtomic(join(bundle, 'address'), address);
  return address;
}

/** A socket at `path` that answers belongs to a running shim: refuse. One that does not is stale: remove it. */
async function refuseLiveSocket(path: string): Promise<void> {
  const live = await new Promise<boolean>((resolve) => {
    const c = connect(path);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
  if (live) throw alreadyExists(`a shim is already serving ${path}`);
  rmSync(path, { force: true });
}

/**
 * The socket `start` wrote into `<bundle>/address` (`delete` gets no bootstrap parameters, so this is how it
 * finds a socket under containerd 2.3+'s socket_dir). Trusted only when its name is this task's hash.
 */
function socketOfBundle(bundle: string, flags: ShimFlags): string | undefined {
  let path: string;
  try {
    path = readFileSync(join(bundle, 'address'), 'utf8').replace(/^unix:\/\//, '');
  } catch {
    return undefined;
  }
  const expected = shimSocketPath(flags.address, flags.namespace, flags.id, { LCOW_SHIM_SOCKET_DIR: dirname(path) });
  return path === expected ? path : undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Linux: true when /proc/<pid>/cmdline shows our daemon for this id (never signal a recycled pid). */
function isOurLinuxDaemon(pid: number, id: string): boolean {
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const i = args.indexOf('-id');
    return i >= 0 && args[i + 1] === id && args.includes('serve');
  } catch {
    return false;
  }
}

/**
 * Windows (no /proc): the process with that pid is ours only when it is the one `start` recorded in
 * shim.identity, same creation time and image. Returns undefined when it is ours, 'gone' when no process has
 * that pid, else why it is not ours (a pid reused by another process, or no identity recorded).
 */
async function isOurRecordedDaemon(pid: number, bundle: string, transport: PlatformTransport): Promise<string | undefined> {
  let text: string;
  try {
    text = readFileSync(join(bundle, SHIM_IDENTITY_FILE), 'utf8');
  } catch {
    return `no ${SHIM_IDENTITY_FILE} recorded beside shim.pid`;
  }
  const recorded = parseProcessIdentity(text);
  if (recorded === undefined || recorded.pid !== pid) return `${SHIM_IDENTITY_FILE} does not describe pid ${pid}`;
  const now = await transport.processIdentity(pid);
  if (now === undefined) return 'gone';
  return sameProcess(recorded, now) ? undefined : `pid ${pid} is now ${now.image} (started ${now.startTime}), not the shim recorded at start (${recorded.image}, started ${recorded.startTime})`;
}

type Warn = (msg: string, fields: Record<string, unknown>) => Promise<void>;

/** Warnings on `delete`'s stderr (containerd shows them); the logger module loads only when one is needed. */
function stderrWarn(flags: ShimFlags): Warn {
  let log: Promise<import('../log/index.js').Logger> | undefined;
  return async (msg, fields) => {
    log ??= import('../log/index.js').then(({ createLogger, Field }) =>
      createLogger({ level: 'info', stream: process.stderr, fields: { [Field.Namespace]: flags.namespace, [Field.TaskId]: flags.id } }),
    );
    (await log).warn(msg, fields);
  };
}

/** Stops a daemon still running for this task: SIGTERM, then SIGKILL after a grace period. */
async function stopDaemon(bundle: string, id: string, transport: PlatformTransport, warn: Warn): Promise<void> {
  let pid: number;
  try {
    pid = Number.parseInt(readFileSync(join(bundle, 'shim.pid'), 'utf8'), 10);
  } catch {
    return;
  }
  if (!Number.isInteger(pid) || pid <= 1 || !alive(pid)) return;
  if (transport.serveMode === 'ready-handshake') {
    const notOurs = await isOurRecordedDaemon(pid, bundle, transport);
    if (notOurs === 'gone') return;
    if (notOurs !== undefined) {
      await warn('delete: not signalling the process in shim.pid: it is not this task\'s shim', { pid, reason: notOurs });
      return;
    }
  } else if (!isOurLinuxDaemon(pid, id)) {
    return;
  }
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 100 && alive(pid); i++) await sleep(10);
  if (alive(pid)) process.kill(pid, 'SIGKILL');
}

/**
 * `delete`: idempotent cleanup after the daemon is gone (or to make it go). Returns the DeleteResponse
 * protobuf for stdout: exit status 255 and exited_at now, as hcsshim does. When the daemon left the
 * released marker (released-marker.ts) there is no VM or mount to look for, and HCS is not even loaded;
 * exited_at is then the time the marker records.
 */
export async function deleteShim(flags: ShimFlags, transport: PlatformTransport): Promise<Uint8Array> {
  requireIds(flags);
  const bundle = flags.bundle || process.cwd();
  const released = releasedByDaemon(bundle); // read before the daemon is stopped: shim.pid names it
  const warn = stderrWarn(flags);
  const panicLog = readPanicLog(bundle);
  if (panicLog !== undefined) await warn('found shim panic logs', { log: panicLog });
  await stopDaemon(bundle, flags.id, transport, warn);
  rmSync(socketOfBundle(bundle, flags) ?? shimSocketPath(flags.address, flags.namespace, flags.id), { force: true });
  if (!released) await cleanupAfterShim({ bundle, id: flags.id, namespace: flags.namespace }); // what a dead daemon left
  // exited_at: when the daemon released the task (the sh `delete` reports the same), else now.
  return encodeDeleteResponse({ pid: 0, exitStatus: UNKNOWN_EXIT_STATUS, exitedAtMs: released?.releasedAtMs ?? Date.now() });
}
