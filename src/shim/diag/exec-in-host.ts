import { failedPrecondition, invalidArgument } from '../../errdefs/index.js';
import type { Logger } from '../../log/index.js';
import type { PlatformTransport } from '../../transport/index.js';
import { openUpstreamIO, relayStdio } from '../stdio/index.js';
import { settlesWithin } from '../../async/index.js';
import type { Sandbox } from '../../sandbox/index.js';
import { COPY_AFTER_EXIT_MS } from '../task/exec.js';
import type { DiagExecRequest } from './types.js';

export interface ExecInHostContext {
  readonly containerId: string;
  readonly namespace: string;
  readonly log: Logger;
  readonly transport: PlatformTransport;
}

/**
 * DiagExecInHost: runs a process in the task's utility VM (not in its container) with the client's stdio,
 * and resolves with its exit status once it exited and its output drained (hcsshim's ExecInUvm).
 * Order: open the client's endpoints → start in the VM → relay → wait → drain (bounded) → close endpoints.
 */
export async function execInHost(sandbox: Sandbox, req: DiagExecRequest, c: ExecInHostContext): Promise<number> {
  if (req.terminal && req.stderr !== '') throw failedPrecondition('if using terminal, stderr must be empty');
  if (req.args.length === 0) throw invalidArgument('exec in the utility VM: missing command');
  const upstream = await openUpstreamIO(
    { stdin: req.stdin, stdout: req.stdout, stderr: req.stderr, terminal: req.terminal },
    { containerId: c.containerId, namespace: c.namespace, log: c.log, transport: c.transport },
  );
  try {
    const proc = await sandbox.execInHost({
      args: req.args, workdir: req.workdir, terminal: req.terminal,
      stdin: upstream.stdin !== undefined, stdout: upstream.stdout !== undefined, stderr: upstream.stderr !== undefined,
    });
    const relay = relayStdio(upstream, proc, { log: c.log });
    const exitStatus = await proc.wait();
    await settlesWithin(relay.done, COPY_AFTER_EXIT_MS);
    c.log.debug('exec in the utility VM exited', { args: req.args.join(' '), exitStatus });
    return exitStatus;
  } finally {
    await upstream.close();
  }
}
