/**
 * One accepted Hyper-V socket as a Node Duplex with half-close, driven entirely by blocking Winsock calls
 * on the libuv threadpool (koffi `.async`): the event loop never blocks.
 *
 *   read    at most one recv in flight; n > 0 pushes the bytes, 0 is EOF (the peer shut down its send
 *           side), SOCKET_ERROR destroys the stream with a WinsockError (the WSA code inside).
 *   write   send in a loop until the chunk is gone (send may take fewer bytes than offered).
 *   end()   shutdown(SD_SEND) once every write has completed: the guest reads EOF (stdin EOF), and
 *           reading goes on (allowHalfOpen).
 *   destroy closesocket on the main thread; a recv or send still blocked on a pool thread then fails,
 *           and its late completion is ignored. The socket is closed exactly once.
 */
import { Duplex } from 'node:stream';
import { WinsockError } from './winsock-error.js';
import { SD_SEND, callAsync, callSync, type SocketHandle, type WinsockLibrary } from './winsock-ffi.js';

/** Largest single recv. */
const MAX_RECV = 64 * 1024;
/** Largest single send (an int length; Winsock takes fewer bytes when it must). */
const MAX_SEND = 1024 * 1024;

export class HvSocketConnection extends Duplex {
  /** `hvsock://vm/service#n`, for logs and errors. */
  readonly label: string;
  private readonly lib: WinsockLibrary;
  private readonly sock: SocketHandle;
  private reading = false;
  private sockClosed = false;

  constructor(lib: WinsockLibrary, sock: SocketHandle, label: string) {
    super({ allowHalfOpen: true });
    this.lib = lib;
    this.sock = sock;
    this.label = label;
  }

  override _read(size: number): void {
    if (this.reading || this.sockClosed) return;
    this.reading = true;
    const len = Math.max(1, Math.min(size, MAX_RECV));
    const buf = Buffer.allocUnsafe(len);
    callAsync(this.lib, 'recv', this.sock, buf, len, 0).then(
      ({ value, wsaCode }) => {
        this.reading = false;
        if (this.sockClosed) return; // closesocket aborted it: the stream is already destroyed
        if (value === -1) this.destroy(new WinsockError('recv', wsaCode, `on ${this.label}`));
        else if (value === 0) this.push(null);
        else if (this.push(buf.subarray(0, value))) this._read(size);
      },
      (err: Error) => {
        this.reading = false;
        this.destroy(err);
      },
    );
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    void this.sendAll(chunk).then(() => callback(), callback);
  }

  private async sendAll(chunk: Buffer): Promise<void> {
    let off = 0;
    while (off < chunk.length) {
      if (this.sockClosed) throw new WinsockError('send', 0, `on ${this.label}: socket closed`);
      const part = chunk.subarray(off, off + MAX_SEND);
      const { value, wsaCode } = await callAsync(this.lib, 'send', this.sock, part, part.length, 0);
      if (value === -1) throw new WinsockError('send', wsaCode, `on ${this.label}`);
      off += value;
    }
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.sockClosed) {
      callback();
      return;
    }
    const { value, wsaCode } = callSync(this.lib, 'shutdown', this.sock, SD_SEND);
    callback(value === -1 ? new WinsockError('shutdown', wsaCode, `(SD_SEND) on ${this.label}`) : null);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.sockClosed) {
      this.sockClosed = true;
      callSync(this.lib, 'closesocket', this.sock);
    }
    callback(error);
  }
}
