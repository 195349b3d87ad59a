/**
 * `containerd-shim-lcow-v1 diag …`: hcsshim's shimdiag tool for this shim (and any shim that serves
 * containerd.runhcs.v1.diag.ShimDiag). It finds the shims of a containerd namespace in containerd's state
 * directory and speaks the diagnostics service on their ttrpc address.
 */
import type { Readable, Writable } from 'node:stream';
import { ErrorCode, invalidArgument, isErrorCode } from '../../errdefs/index.js';
import { containerd } from '../../proto/index.js';
import { isNamedPipePath } from '../../transport/index.js';
import { TtrpcClient, type Dialer } from '../../ttrpc/index.js';
import { openClientStdio } from './client-stdio.js';
import { SHIM_DIAG_SERVICE } from './diag-service.js';
import { findShim, findShims, type ShimEntry } from './find-shims.js';

const diag = containerd.runhcs.v1.diag;
/** How long `list` waits for each shim's DiagPid. */
const LIST_CALL_TIMEOUT_MS = 3000;
/** How long `exec` lets the outputs drain after the process exited. */
const OUTPUT_DRAIN_MS = 2000;

export const DIAG_USAGE = `Usage: containerd-shim-lcow-v1 diag [--namespace NS] [--state DIR] COMMAND
  list [--pids]                         the shims of the namespace that serve the diagnostics service
  exec [-t] SHIM CMD [ARG…]             run CMD in the shim's utility VM; exits with its exit code
  stacks SHIM                           the shim's stacks and the guest's
  tasks [--execs] SHIM                  the shim's tasks (and their processes)
  share [--ro] SHIM HOST_PATH UVM_PATH  share a host file or directory into the utility VM
SHIM is a task id, or a prefix only one task id has. NS: default $CONTAINERD_NAMESPACE, else "default".
DIR: containerd's state directory (default /run/containerd; on Windows C:\\ProgramData\\containerd\\state).`;

export interface DiagIo {
  readonly stdin: Readable;
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly env: NodeJS.ProcessEnv;
  /** A Windows host: containerd's Windows state directory by default. */
  readonly windows?: boolean;
  /** The platform's dial (the transport's, chosen in entry.ts): how the shims' ttrpc addresses are reached. */
  readonly dial: Dialer;
}

interface Parsed {
  namespace: string;
  state: string;
  flags: Set<string>;
  words: string[];
}

/** Global flags anywhere before the command's words; command flags (-t, --pids, …) before its SHIM. */
function parse(argv: readonly string[], io: DiagIo, defaultNamespace: string): Parsed {
  const p: Parsed = {
    namespace: defaultNamespace || io.env.CONTAINERD_NAMESPACE || 'default',
    state: io.windows ? 'C:\\ProgramData\\containerd\\state' : '/run/containerd',
    flags: new Set(), words: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (p.words.length >= 2 && p.words[0] === 'exec') {
      p.words.push(...argv.slice(i)); // the command and its arguments are not ours
      break;
    }
    const [name, inline] = a.startsWith('-') ? a.replace(/^--?/, '').split(/=(.*)/s, 2) : [undefined, undefined];
    if (name === undefined) p.words.push(a);
    else if (name === 'namespace' || name === 'n' || name === 'state') {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') throw invalidArgument(`--${name} needs a value`);
      if (name === 'state') p.state = v;
      else p.namespace = v;
    } else if (['t', 'tty', 'pids', 'execs', 'ro', 'readonly'].includes(name)) p.flags.add(name === 'tty' ? 't' : name === 'readonly' ? 'ro' : name);
    else throw invalidArgument(`unknown flag '${a}'\n${DIAG_USAGE}`);
  }
  return p;
}

async function withShim<T>(shim: ShimEntry, dial: Dialer, fn: (c: TtrpcClient) => Promise<T>): Promise<T> {
  const client = await TtrpcClient.connect(shim.address, { dial });
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

const call = async <T>(c: TtrpcClient, method: string, payload: Uint8Array, decode: (b: Uint8Array) => T, timeoutMs?: number): Promise<T> =>
  decode(await c.call(SHIM_DIAG_SERVICE, method, payload, timeoutMs === undefined ? {} : { timeoutMs }));

/** Runs a diag command; resolves with the process exit code. Errors are thrown (the caller prints them). */
export async function diagCommand(argv: readonly string[], io: DiagIo, defaultNamespace = ''): Promise<number> {
  const p = parse(argv, io, defaultNamespace);
  const [command, ...args] = p.words;
  const need = (n: number, what: string): void => {
    if (args.length < n) throw invalidArgument(`diag ${command ?? ''}: ${what}\n${DIAG_USAGE}`);
  };
  const shim = (): ShimEntry => findShim(p.state, p.namespace, args[0] ?? '');
  switch (command) {
    case 'list': {
      for (const s of findShims(p.state, p.namespace)) {
        let pid: number;
        try {
          pid = await withShim(s, io.dial, (c) => call(c, 'DiagPid', diag.PidRequest.encode({}).finish(), (b) => diag.PidResponse.decode(b).pid ?? 0, LIST_CALL_TIMEOUT_MS));
        } catch (err) {
          // Not ours (no ShimDiag service) or not answering: not listed.
          if (!isErrorCode(err, ErrorCode.NotFound) && !isErrorCode(err, ErrorCode.NotImplemented)) {
            io.stderr.write(`${s.id}: ${(err as Error).message}\n`);
          }
          continue;
        }
        io.stdout.write(p.flags.has('pids') ? `${s.id}\t${pid}\n` : `${s.id}\n`);
      }
      return 0;
    }
    case 'stacks': {
      need(1, 'SHIM is required');
      const r = await withShim(shim(), io.dial, (c) => call(c, 'DiagStacks', diag.StacksRequest.encode({}).finish(), (b) => diag.StacksResponse.decode(b)));
      io.stdout.write(`Stacks:\n${r.stacks ?? ''}\n`);
      if (r.guest_stacks) io.stdout.write(`Guest Stacks:\n${r.guest_stacks}\n`);
      return 0;
    }
    case 'tasks': {
      need(1, 'SHIM is required');
      const req = diag.TasksRequest.encode({ execs: p.flags.has('execs') }).finish();
      const r = await withShim(shim(), io.dial, (c) => call(c, 'DiagTasks', req, (b) => diag.TasksResponse.decode(b)));
      for (const t of r.tasks ?? []) {
        io.stdout.write(`${t.id ?? ''}\n`);
        for (const e of t.execs ?? []) io.stdout.write(`  ${e.state ?? ''}\t${e.id === '' ? '(init)' : e.id ?? ''}\n`);
      }
      return 0;
    }
    case 'share': {
      need(3, 'SHIM, HOST_PATH and UVM_PATH are required');
      const [name, hostPath = '', uvmPath = ''] = args;
      const req = diag.ShareRequest.encode({ host_path: hostPath, uvm_path: uvmPath, read_only: p.flags.has('ro') }).finish();
      await withShim(shim(), io.dial, (c) => call(c, 'DiagShare', req, (b) => diag.ShareResponse.decode(b)));
      io.stdout.write(`Shared ${hostPath} into ${name ?? ''} at ${uvmPath}\n`);
      return 0;
    }
    case 'exec':
      need(2, 'SHIM and CMD are required');
      return execCommand(shim(), args.slice(1), p.flags.has('t'), io);
    default:
      throw invalidArgument(`unknown diag command '${command ?? ''}'\n${DIAG_USAGE}`);
  }
}

async function execCommand(s: ShimEntry, cmd: string[], terminal: boolean, io: DiagIo): Promise<number> {
  const tty = io.stdin as Readable & { isTTY?: boolean; setRawMode?: (raw: boolean) => void };
  const raw = terminal && tty.isTTY === true && typeof tty.setRawMode === 'function';
  const stdio = await openClientStdio({
    namedPipes: isNamedPipePath(s.address), terminal, input: io.stdin, output: io.stdout, errors: io.stderr,
  });
  if (raw) tty.setRawMode?.(true);
  try {
    const req = diag.ExecProcessRequest.encode({ args: cmd, terminal, stdin: stdio.stdin, stdout: stdio.stdout, stderr: stdio.stderr }).finish();
    const r = await withShim(s, io.dial, (c) => call(c, 'DiagExecInHost', req, (b) => diag.ExecProcessResponse.decode(b)));
    return r.exit_code ?? 0;
  } finally {
    await stdio.close(OUTPUT_DRAIN_MS);
    if (raw) tty.setRawMode?.(false);
  }
}
