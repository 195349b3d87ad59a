/**
 * Where `serve` gets its listening socket (Linux):
 *
 *   started by                      socket                                 environment
 *   Node's `start` (manager.ts)     fd 3, already listening                LCOW_SHIM_LISTEN_FD=3
 *   the executable's sh `start`     the path Node's start would use        LCOW_SHIM_READY_FD=3 (a pipe to the sh)
 *     (shim-wrapper.sh)             (shim-address.ts; or -socket PATH):
 *                                   serve listens itself, first thing,
 *                                   and says so on fd 3
 *   a person                        `-socket PATH`: serve listens itself   (none)
 *
 * Listening itself: listenLinked (listen-socket.ts) binds a temporary name, listens and links it to PATH,
 * so PATH never names a socket that is not listening, and an existing PATH is never replaced (EEXIST: the
 * sh `start` then hands over to Node's, which probes it). This happens before anything else in `serve` (the
 * logger, HCS, the pre-loaded guest agent), so containerd's dial succeeds as early as it can; the
 * connections accepted before the Task service is registered wait in order (`handOver`), as they would in
 * the kernel's backlog on an inherited socket. Started by the sh `start`, `serve` then writes
 * `<bundle>/address` and `shim.pid` (temporary file + rename each, as Node's start does), writes
 * `listening <pid> unix://PATH\n` to the ready fd and closes it. The sh `start` waits for that line (EOF
 * without it: `serve` could not listen or write the files, removed what it had made and exits; sh then runs
 * Node's `start`, which reports why) before it prints the address. It must wait:
 * containerd 2.x dials the printed address once, without retrying a missing path (v2.4.2 pkg/shim/util_unix.go
 * AnonDialer is net.DialTimeout), and only 1.6 retries ENOENT every 10 ms, for up to 100 s (v1.6
 * runtime/v2/shim/util_unix.go AnonDialer → pkg/dialer timeoutDialer; util.go Connect's 100 s).
 */
import { closeSync, rmSync, writeSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { listenLinked } from './listen-socket.js';
import { writeFileAtomic } from './reexec-start.js';

export const LISTEN_FD_ENV = 'LCOW_SHIM_LISTEN_FD';
export const READY_FD_ENV = 'LCOW_SHIM_READY_FD';
/** An absolute, clean path of the characters shim-wrapper.sh allows in a socket dir. */
const SH_SAFE_PATH = /^(?:\/(?!\.\.?(?:\/|$))[A-Za-z0-9._+@-]+)+$/;

/** What follows the address on the sh start's "listening" line: '' or ' ' + the escaped reply (serve-start-input.ts). */
export type ListeningReply = (address: string) => string;

export interface ListenRequest {
  /** -socket; '' for the path Node's start would use (`ownSocket`), which only the sh `start` may leave out. */
  readonly socket: string;
  /** Where the sh `start` wants `address` and `shim.pid`. */
  readonly bundle: string;
  /** The socket path Node's start would use for this task (shim-address.ts). */
  readonly ownSocket: () => string;
  /** For the sh `start` that spooled containerd's stdin: what follows the address (serve-start-input.ts). */
  readonly reply?: ListeningReply;
}

export interface ServeListener {
  readonly server: Server;
  /** The path serve listens on ('' on an inherited socket without -socket). */
  readonly socket: string;
  /** Started by the executable's sh `start` (a ready fd): the "shim start" milestone is then serve's to log. */
  readonly byShStart: boolean;
  /** Stops queueing: `accept` gets the connections that arrived so far, in order; later ones are the server's. */
  handOver(accept: (conn: Socket) => void): void;
  /**
   * `serve` failed before serving: stop listening and drop what waits, so containerd's dial gets ECONNREFUSED
   * (or its connection closes) at once. PATH stays, a dead socket, as an inherited one would (`delete` removes
   * it): removed, containerd 1.6 would retry the missing path for 100 s.
   */
  abandon(): void;
}

/**
 * Takes both variables out of `env` (the processes serve starts must not inherit them) and listens; for the
 * sh `start`, writes the bundle's files and the ready line. Throws, with nothing left behind, when it cannot.
 */
export async function serveListener(req: ListenRequest, env: NodeJS.ProcessEnv = process.env): Promise<ServeListener> {
  const listenFd = Number.parseInt(env[LISTEN_FD_ENV] ?? '', 10);
  const readyFd = Number.parseInt(env[READY_FD_ENV] ?? '', 10);
  delete env[LISTEN_FD_ENV];
  delete env[READY_FD_ENV];
  // Only the sh `start` hands a ready fd; with an inherited socket, fd 3 is that socket (a stray variable).
  const byShStart = Number.isInteger(readyFd) && !Number.isInteger(listenFd);
  const socket = req.socket === '' && byShStart ? req.ownSocket() : req.socket;
  if (!Number.isInteger(listenFd) && socket === '') throw new Error(`serve needs -socket (or a listening socket in ${LISTEN_FD_ENV})`);
  // What sh prints after the line: computed before anything exists, so a failure leaves nothing. sh can check
  // the address only when it is made of the characters it checked the socket dir for (a socket_dir from
  // containerd's BootstrapParams reaches only us): with others, Node's start takes over.
  const reply = byShStart && req.reply !== undefined ? req.reply(`unix://${socket}`) : '';
  if (byShStart && !SH_SAFE_PATH.test(socket)) throw new Error(`the socket path ${JSON.stringify(socket)} is not one the sh start prints`);
  const server = Number.isInteger(listenFd) ? await inherited(listenFd) : await listenLinked(socket);
  const queued = new Set<Socket>();
  const onClose = function (this: Socket): void {
    queued.delete(this);
  };
  const queue = (conn: Socket): void => {
    queued.add(conn);
    conn.on('error', ignore); // 'close' follows: dropped from the queue
    conn.once('close', onClose);
  };
  server.on('connection', queue);
  const drop = (): void => {
    server.off('connection', queue);
    server.close();
    for (const conn of queued) conn.destroy();
    queued.clear();
  };
  if (byShStart) {
    const address = `unix://${socket}`;
    try {
      writeStartFiles(req.bundle, [['address', address], ['shim.pid', String(process.pid)]]);
    } catch (err) {
      // Nobody was given the address: the socket goes too, and sh's fallback (Node's start) finds nothing.
      drop();
      rmSync(socket, { force: true });
      closeFd(readyFd);
      throw err;
    }
    signalListening(readyFd, `listening ${process.pid} ${address}${reply}\n`);
  }
  return {
    server,
    socket,
    byShStart,
    handOver(accept) {
      server.off('connection', queue);
      for (const conn of queued) {
        conn.off('error', ignore);
        conn.off('close', onClose);
        accept(conn);
      }
      queued.clear();
    },
    abandon: drop,
  };
}

/** The socket `start` handed over, listening already (Node accepts from it once it listens on the fd). */
async function inherited(fd: number): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ fd }, resolve);
  });
  return server;
}

/**
 * `address` and `shim.pid` into the bundle, as Node's start writes them (writeFileAtomic: temporary name +
 * rename, no newline), in this order; on any failure none of them is left, temporary (writeFileAtomic) or renamed.
 */
function writeStartFiles(bundle: string, files: ReadonlyArray<readonly [string, string]>): void {
  const written: string[] = [];
  try {
    for (const [name, text] of files) {
      writeFileAtomic(join(bundle, name), text);
      written.push(join(bundle, name));
    }
  } catch (err) {
    for (const path of written) rmSync(path, { force: true }); // writeFileAtomic left no temp file of its own
    throw err;
  }
}

/** Tells the sh `start` that we listen, who we are and where. It may be gone (killed): nothing to tell then. */
function signalListening(fd: number, line: string): void {
  try {
    writeSync(fd, line);
  } catch {
    // the reader is gone
  }
  closeFd(fd);
}

function closeFd(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // not open
  }
}

function ignore(): void {}
