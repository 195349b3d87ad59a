import { connect, type Socket } from 'node:net';

/** Connects to the unix socket at `path`; rejects with the connect error. */
export function dial(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const c = connect(path);
    c.once('connect', () => resolve(c));
    c.once('error', reject);
  });
}

/** What a dial of `path` gets: 'connected' (closed again at once) or the error's code (ENOENT, ECONNREFUSED…). */
export function dialError(path: string): Promise<string> {
  return dial(path).then((c) => (c.destroy(), 'connected'), (err: NodeJS.ErrnoException) => err.code ?? 'unknown');
}
