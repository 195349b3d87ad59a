/**
 * A stdout/stderr writer that survives its reader going away (Windows named pipes, hcs-and-uvm.md
 * §8.6): a write that fails on a broken connection redials the endpoint on the backoff schedule
 * (backoff.ts) and retries the same chunk on the new connection. When the budget runs out the write fails
 * with Unavailable, naming the endpoint and the last dial error. The first connection is dialed by the
 * caller (an endpoint that does not exist at open time is an error, with no retry).
 *
 * Written chunks are never split or reordered; a chunk the old connection may have partly delivered is
 * sent again in full on the new one (the reader that left lost its view anyway).
 */
import { Writable, finished } from 'node:stream';
import { setTimeout as sleepMs } from 'node:timers/promises';
import { ErrorCode, ShimError } from '../errdefs/index.js';
import { backoffDelays, type BackoffOptions } from './backoff.js';
import type { Connection } from './types.js';

export interface RedialWriterOptions extends BackoffOptions {
  /** Dials the endpoint again. */
  readonly redial: () => Promise<Connection>;
  /** For errors and logs. */
  readonly address: string;
  /** Waits between attempts (tests inject a recorder; no real time passes). */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Called after each failed redial attempt and on each successful reconnect. */
  readonly onRedial?: (event: { attempt: number; delayMs: number; error?: Error }) => void;
}

export class RedialWriter extends Writable {
  private conn: Connection;
  private readonly opts: RedialWriterOptions;
  private gone = false;

  constructor(first: Connection, opts: RedialWriterOptions) {
    super();
    this.opts = opts;
    this.conn = this.adopt(first);
  }

  /** Connection errors surface through write callbacks; an unhandled 'error' event must not crash us. */
  private adopt(conn: Connection): Connection {
    conn.on('error', () => {}); // surfaces through the write callbacks (above)
    conn.resume(); // a pipe client never reads; drain anything the server sends
    return conn;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, callback: (error?: Error | null) => void): void {
    void this.deliver(chunk).then(() => callback(), callback);
  }

  private writeOnce(conn: Connection, chunk: Buffer): Promise<Error | undefined> {
    if (conn.destroyed || conn.writableEnded) return Promise.resolve(new Error('connection closed'));
    return new Promise((resolve) => {
      const onClose = (): void => resolve(new Error('connection closed'));
      conn.once('close', onClose);
      conn.write(chunk, (err) => {
        conn.off('close', onClose);
        resolve(err ?? undefined);
      });
    });
  }

  private async deliver(chunk: Buffer): Promise<void> {
    let err = await this.writeOnce(this.conn, chunk);
    if (err === undefined) return;
    this.conn.destroy();
    const sleep = this.opts.sleep ?? ((ms: number) => sleepMs(ms));
    let attempt = 0;
    for (const delayMs of backoffDelays(this.opts)) {
      if (this.gone) break;
      await sleep(delayMs);
      attempt++;
      if (this.gone) break;
      try {
        this.conn = this.adopt(await this.opts.redial());
      } catch (dialErr) {
        err = dialErr as Error;
        this.opts.onRedial?.({ attempt, delayMs, error: err });
        continue;
      }
      this.opts.onRedial?.({ attempt, delayMs });
      const again = await this.writeOnce(this.conn, chunk);
      if (again === undefined) return;
      err = again;
      this.conn.destroy();
    }
    throw new ShimError(ErrorCode.Unavailable, `stdio ${this.opts.address}: reader gone and redial gave up after ${attempt} attempt(s): ${err.message}`, {
      cause: err,
    });
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.conn.destroyed) {
      callback();
      return;
    }
    const conn = this.conn;
    finished(conn, { readable: false }, () => callback());
    conn.end();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.gone = true;
    this.conn.destroy();
    callback(error);
  }
}
