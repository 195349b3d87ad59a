import { PassThrough, type Duplex } from 'node:stream';
import { createLogger, type Logger } from '../../../src/log/index.js';
import { FrameDecoder, encodeFrame, parseJsonBody, responseType, rpcProcOf } from '../../../src/gcs/protocol/index.js';

/** The guest end of a bridge under test, driven by hand: records requests, writes whatever it is told. */
export class RawPeer {
  readonly requests: { proc: number; id: number; body: Record<string, unknown> }[] = [];
  private readonly decoder = new FrameDecoder();
  private waiters: (() => void)[] = [];

  constructor(readonly conn: Duplex) {
    conn.on('data', (chunk: Buffer) => {
      for (const f of this.decoder.decode(chunk)) this.requests.push({ proc: rpcProcOf(f.type), id: f.id, body: parseJsonBody(f.body) });
      for (const w of this.waiters.splice(0)) w();
    });
    conn.on('error', () => undefined);
  }

  /** Resolves once at least `n` requests have arrived. */
  async waitForRequests(n: number): Promise<void> {
    while (this.requests.length < n) await new Promise<void>((r) => this.waiters.push(r));
  }

  reply(id: number, proc: number, body: Record<string, unknown>, chunkSize = 0): void {
    this.writeRaw(encodeFrame(responseType(proc), id, body), chunkSize);
  }

  /** Writes bytes, optionally in chunks of `chunkSize` bytes (separate writes). */
  writeRaw(buf: Buffer, chunkSize = 0): void {
    if (chunkSize <= 0) this.conn.write(buf);
    else for (let i = 0; i < buf.length; i += chunkSize) this.conn.write(buf.subarray(i, i + chunkSize));
  }
}

/** A debug-level logger whose text is collected in `lines()`. */
export function captureLogger(): { log: Logger; text(): string } {
  const sink = new PassThrough();
  let text = '';
  sink.on('data', (d: Buffer) => (text += d.toString()));
  return { log: createLogger({ level: 'debug', stream: sink }), text: () => text };
}
