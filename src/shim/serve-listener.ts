/**
 * Where `serve` gets its listening socket (Linux):
 *
 *   started by                      socket                                 environment
 *   Node's `start` (manager.ts)     fd 3, already listening                LCOW_SHIM_LISTEN_FD=3
 *   the executable's sh `start`     `-socket PATH`: serve listens itself,  LCOW_SHIM_READY_FD=3 (a pipe to the sh)
 *     (shim-wrapper.sh)             first thing, and says so on fd 3
 *   a person                        `-socket PATH`, as above               (none)
 *
 * Listening itself: listenLinked (listen-socket.ts) binds a temporary name, listens and links it to PATH,
 * so PATH never names a socket that is not listening, and an existing PATH is never replaced (EEXIST: the
 * sh `start` then hands over to Node's, which probes it). This happens before anything else in `serve` (the
 * logger, HCS, the pre-loaded guest agent), so containerd's dial succeeds as early as it can; the
 * connections accepted before the Task service is registered wait in order (`handOver`), as they would in
 * the kernel's backlog on an inherited socket. Then `serve` writes `listening <pid>\n` to the ready fd and
 * closes it: the sh `start` waits for that line (EOF without it: `serve` died; it then runs Node's `start`,
 * which reports why) before it writes `address` and `shim.pid` and prints the address. It must wait:
 * containerd 2.x dials the printed address once, without retrying a missing path (v2.4.2 pkg/shim/util_unix.go
 * AnonDialer is net.DialTimeout), and only 1.6 retries ENOENT every 10 ms, for up to 100 s (v1.6
 * runtime/v2/shim/util_unix.go AnonDialer → pkg/dialer timeoutDialer; util.go Connect's 100 s).
 */
import { closeSync, writeSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { listenLinked } from './listen-socket.js';

export const LISTEN_FD_ENV = 'LCOW_SHIM_LISTEN_FD';
export const READY_FD_ENV = 'LCOW_SHIM_READY_FD';

export interface ServeListener {
  readonly server: Server;
  /** Stops queueing: `accept` gets the connections that arrived so far, in order; later ones are the server's. */
  handOver(accept: (conn: Socket) => void): void;
  /**
   * `serve` failed before serving: stop listening and drop what waits, so containerd's dial gets ECONNREFUSED
   * (or its connection closes) at once. PATH stays, a dead socket, as an inherited one would (`delete` removes
   * it): removed, containerd 1.6 would retry the missing path for 100 s.
   */
  abandon(): void;
}

/** Takes both variables out of `env` (the processes serve starts must not inherit them) and listens. */
export async function serveListener(socket: string, env: NodeJS.ProcessEnv = process.env): Promise<ServeListener> {
  const listenFd = Number.parseInt(env[LISTEN_FD_ENV] ?? '', 10);
  const readyFd = Number.parseInt(env[READY_FD_ENV] ?? '', 10);
  delete env[LISTEN_FD_ENV];
  delete env[READY_FD_ENV];
  if (!Number.isInteger(listenFd) && socket === '') throw new Error(`serve needs -socket (or a listening socket in ${LISTEN_FD_ENV})`);
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
  // Only the sh `start` hands a ready fd; with an inherited socket, fd 3 is that socket (a stray variable).
  if (Number.isInteger(readyFd) && !Number.isInteger(listenFd)) signalListening(readyFd);
  return {
    server,
    handOver(accept) {
      server.off('connection', queue);
      for (const conn of queued) {
        conn.off('error', ignore);
        conn.off('close', onClose);
        accept(conn);
      }
      queued.clear();
    },
    abandon() {
      server.off('connection', queue);
      server.close();
      for (const conn of queued) conn.destroy();
      queued.clear();
    },
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

/** Tells the sh `start` that we listen, and who we are. It may be gone (killed): nothing to tell then. */
function signalListening(fd: number): void {
  try {
    writeSync(fd, `listening ${process.pid}\n`);
  } catch {
    // the reader is gone
  }
  try {
    closeSync(fd);
  } catch {
    // not open
  }
}

function ignore(): void {}
