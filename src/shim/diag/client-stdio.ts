/**
 * The client side of DiagExecInHost's stdio (the `diag exec` command): endpoints the shim opens, relayed to
 * this process's own stdin/stdout/stderr. The shim opens them the way it opens containerd's:
 *   Linux    FIFOs in a private temp dir (the shim opens stdin for reading, stdout/stderr O_RDWR for writing)
 *   Windows  named pipes this process listens on (the shim dials them), as hcsshim's CreatePipeAndListen
 * Closing order: outputs drained (bounded) → endpoints destroyed → temp dir removed.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, constants, createWriteStream, mkdtempSync, openSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { openFifoReader } from '../../transport/index.js';
import { openFileHandle, settlesWithin, whenSettled } from '../../async/index.js';

export interface ClientStdioOptions {
  /** Named pipes (the shim is on Windows) instead of FIFOs. */
  readonly namedPipes: boolean;
  readonly terminal: boolean;
  readonly input: Readable;
  readonly output: Writable;
  readonly errors: Writable;
}

export interface ClientStdio {
  readonly stdin: string;
  readonly stdout: string;
  /** "" with a terminal. */
  readonly stderr: string;
  /** Waits (at most `ms`) for the outputs to end, then releases everything. Idempotent. */
  close(ms: number): Promise<void>;
}

const relayOut = (src: Readable, dst: Writable): Promise<void> =>
  new Promise((resolve) => {
    src.on('data', (chunk: Buffer) => dst.write(chunk));
    src.once('end', resolve);
    src.once('error', () => resolve());
    src.once('close', () => resolve());
  });

async function fifoStdio(o: ClientStdioOptions): Promise<ClientStdio> {
  const dir = mkdtempSync(join(tmpdir(), 'lcow-diag-'));
  const names = o.terminal ? ['stdin', 'stdout'] : ['stdin', 'stdout', 'stderr'];
  const paths = names.map((n) => join(dir, n));
  execFileSync('mkfifo', ['-m', '600', ...paths]);
  const [stdinPath = '', stdoutPath = '', stderrPath = ''] = paths;
  const opened: Array<Readable | Writable> = [];
  // stdin: a blocking O_WRONLY open that completes once the shim opened its read end (as containerd's
  // fifo package does): what we write can then not be lost to a FIFO nobody holds, and closing our end is
  // the shim's EOF. An fs stream: its end() closes the descriptor once everything is flushed.
  const stdinOpen = openFileHandle(stdinPath, constants.O_WRONLY);
  void stdinOpen.then((h) => {
    const stdin = createWriteStream('', { fd: h, autoClose: true });
    stdin.on('error', () => undefined); // the shim closed its read end: the client's input has nowhere to go
    opened.push(stdin);
    o.input.pipe(stdin);
  }, () => undefined);
  const outputs: Array<Promise<void>> = [];
  for (const [path, dst] of [[stdoutPath, o.output], [stderrPath, o.errors]] as const) {
    if (path === '') continue;
    const r = await openFifoReader(path);
    opened.push(r);
    outputs.push(relayOut(r, dst));
  }
  let closing: Promise<void> | undefined;
  return {
    stdin: stdinPath, stdout: stdoutPath, stderr: stderrPath,
    close: (ms) =>
      (closing ??= (async () => {
        await settlesWithin(Promise.all(outputs), ms);
        o.input.unpipe();
        // A stdin the shim never opened: open its read end ourselves so the pending open returns.
        if (!(await settlesWithin(stdinOpen, 0))) closeSync(openSync(stdinPath, constants.O_RDONLY | constants.O_NONBLOCK));
        await whenSettled(stdinOpen); // its failure is handled where it is opened (no stdin to pipe)
        for (const s of opened) s.destroy();
        rmSync(dir, { recursive: true, force: true });
      })()),
  };
}

async function pipeStdio(o: ClientStdioOptions): Promise<ClientStdio> {
  const base = `\\\\.\\pipe\\lcow-diag-${process.pid}-${Date.now().toString(36)}`;
  const servers: Server[] = [];
  const sockets: Socket[] = [];
  const outputs: Array<Promise<void>> = [];
  const serve = async (name: string, onConn: (s: Socket) => void): Promise<string> => {
    const path = `${base}-${name}`;
    const server = createServer((s) => {
      sockets.push(s);
      s.on('error', () => undefined); // a reset is an end too: the relay ends with 'close'
      onConn(s);
    });
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(path, resolve));
    servers.push(server);
    return path;
  };
  const stdin = await serve('stdin', (s) => o.input.pipe(s));
  const outs = o.terminal ? [['stdout', o.output]] as const : [['stdout', o.output], ['stderr', o.errors]] as const;
  const paths: string[] = [];
  for (const [name, dst] of outs) {
    let resolveOut!: () => void;
    outputs.push(new Promise((r) => (resolveOut = r)));
    paths.push(await serve(name, (s) => void relayOut(s, dst).then(resolveOut)));
  }
  let closing: Promise<void> | undefined;
  return {
    stdin, stdout: paths[0] ?? '', stderr: paths[1] ?? '',
    close: (ms) =>
      (closing ??= (async () => {
        await settlesWithin(Promise.all(outputs), ms);
        for (const s of sockets) s.destroy();
        for (const s of servers) s.close();
      })()),
  };
}

export function openClientStdio(o: ClientStdioOptions): Promise<ClientStdio> {
  return o.namedPipes ? pipeStdio(o) : fifoStdio(o);
}
