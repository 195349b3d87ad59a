import type { Readable } from 'node:stream';
import type { GuestConnection, ProcessParameters } from '../gcs/index.js';
import type { HostProcessRequest } from './types.js';

/** PATH of a process run in the VM itself (hcsshim's cmd.Command for a Linux host). */
export const UVM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** What a command's output keeps for its error message (runc prints one line on failure). */
const OUTPUT_LIMIT = 16 * 1024;

export interface VmCommandResult {
  readonly exitCode: number;
  /** stdout then stderr, trimmed, at most OUTPUT_LIMIT bytes of each. */
  readonly output: string;
}

/**
 * The GCS parameters of a process in the utility VM itself, as hcsshim's ExecInUvm for LCOW: CommandArgs, working
 * directory "/" unless given, PATH set, stdio pipes as asked (no stderr with a terminal). Used by runInVm and
 * by the sandbox's execInHost.
 */
export function uvmProcessParameters(req: HostProcessRequest): ProcessParameters {
  return {
    CommandArgs: [...req.args],
    WorkingDirectory: req.workdir || '/',
    Environment: { PATH: UVM_PATH },
    ...(req.terminal ? { EmulateConsole: true } : {}), // omitempty in hcsshim's schema type: false is not sent
    CreateStdInPipe: req.stdin,
    CreateStdOutPipe: req.stdout,
    CreateStdErrPipe: req.stderr && !req.terminal,
  };
}

/**
 * Runs a command in the utility VM itself (GCS ExecuteProcess on the zero container id, as hcsshim's
 * ExecInUvm) and collects its output. Order: ExecuteProcess → read stdout and stderr to EOF (the process
 * destroys each stream at EOF, which the GCS's close handshake waits for) → WaitForProcess → close.
 */
export async function runInVm(gc: GuestConnection, args: readonly string[]): Promise<VmCommandResult> {
  const p = await gc.createProcess(
    uvmProcessParameters({ args, workdir: '/', stdin: false, stdout: true, stderr: true, terminal: false }),
  );
  try {
    const [out, err] = [collect(p.stdout), collect(p.stderr)];
    const exitCode = await p.wait();
    const output = [await out, await err].filter((s) => s !== '').join('\n');
    return { exitCode, output };
  } finally {
    p.close();
  }
}

function collect(stream: Readable | undefined): Promise<string> {
  if (stream === undefined) return Promise.resolve('');
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (b: Buffer) => {
      if (size < OUTPUT_LIMIT) chunks.push(b.subarray(0, OUTPUT_LIMIT - size));
      size += b.length;
    });
    const text = (): string => Buffer.concat(chunks).toString('utf8').trim();
    stream.once('end', () => resolve(text()));
    stream.once('close', () => resolve(text()));
    // What was read so far still explains the failure; the read error goes into the message with it.
    stream.once('error', (err: Error) => resolve(`${text()} (reading the output failed: ${err.message})`.trim()));
  });
}
