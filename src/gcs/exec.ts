/**
 * ExecuteProcess, as hcsshim's gcs exec does it: listen on one port per requested stream, send the request
 * with those ports, then issue the WaitForProcess long poll and take the guest's stdio connections.
 */
import { ErrorCode, ShimError, invalidArgument } from '../errdefs/index.js';
import { handledElsewhere } from '../async/index.js';
import { logTeardown, type Logger } from '../log/index.js';
import type { Bridge } from './bridge.js';
import { Process, SIGKILL } from './process.js';
import {
  InfiniteWaitTimeout,
  NullActivityID,
  RPCExecuteProcess,
  RPCSignalProcess,
  RPCWaitForProcess,
  toJsonString,
  type ContainerExecuteProcess,
  type ContainerExecuteProcessResponse,
  type ContainerWaitForProcess,
  type ContainerWaitForProcessResponse,
  type ProcessParameters,
} from './protocol/index.js';
import { StdioListeners, type IoListen, type StdioStreams } from './stdio.js';

/** What executeProcess needs from its guest connection. */
export interface ExecContext {
  readonly bridge: Bridge;
  readonly ioListen: IoListen;
  /** The next stdio port (0x40000001, 0x40000002, ... never reused on a connection). */
  allocPort(): number;
  readonly log: Logger;
  /** How long to wait for the guest to dial the stdio ports after ExecuteProcess succeeded. */
  readonly timeoutMs: number;
}

export async function executeProcess(
  ctx: ExecContext,
  containerId: string,
  params: ProcessParameters,
  opts: { signal?: AbortSignal } = {},
): Promise<Process> {
  if (typeof params !== 'object' || params === null) throw invalidArgument('gcs: process parameters must be an object');
  const wants = { stdin: params.CreateStdInPipe === true, stdout: params.CreateStdOutPipe === true, stderr: params.CreateStdErrPipe === true };
  const listeners = await StdioListeners.open(ctx.ioListen, () => ctx.allocPort(), wants, ctx.log);

  // Accepting starts now, so a guest that dials before answering is served; it ends with the bridge.
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new ShimError(ErrorCode.DeadlineExceeded, 'gcs: guest did not dial the stdio ports')), ctx.timeoutMs);
  const unsubscribe = ctx.bridge.onClose(() => abort.abort(new ShimError(ErrorCode.Unavailable, 'gcs: bridge closed')));
  const accepted = listeners.accept(abort.signal);
  handledElsewhere(accepted); // awaited below, once the process exists

  const req: ContainerExecuteProcess = {
    ContainerId: containerId,
    ActivityId: NullActivityID,
    Settings: { ProcessParameters: toJsonString(params), VsockStdioRelaySettings: listeners.relaySettings },
  };
  let pid: number;
  try {
    const resp = await ctx.bridge.rpc<ContainerExecuteProcessResponse>(RPCExecuteProcess, req, { signal: opts.signal });
    pid = typeof resp.ProcessId === 'number' ? resp.ProcessId >>> 0 : 0;
  } catch (err) {
    clearTimeout(timer);
    unsubscribe();
    abort.abort(err);
    // The guest may have dialled every stream before failing the launch: those connections are ours to close.
    void accepted.then(
      (s) => destroyStreams(s),
      (e: unknown) => ctx.log.debug('gcs: stdio accept ended with the failed launch', { cid: containerId, error: String(e) }),
    );
    await listeners.close();
    throw err;
  }

  const waitReq: ContainerWaitForProcess = { ContainerId: containerId, ActivityId: NullActivityID, ProcessId: pid, TimeoutInMs: InfiniteWaitTimeout };
  const exit = ctx.bridge.asyncRpc<ContainerWaitForProcessResponse>(RPCWaitForProcess, waitReq);
  handledElsewhere(exit); // observed through the Process's wait()

  try {
    const stdio = await accepted;
    return new Process(ctx.bridge, containerId, pid, stdio, exit);
  } catch (err) {
    ctx.log.error('stdio connection failed; killing the process', { cid: containerId, pid, error: (err as Error).message });
    const kill = { ContainerId: containerId, ActivityId: NullActivityID, ProcessId: pid, Options: { Signal: SIGKILL } };
    await ctx.bridge.rpc(RPCSignalProcess, kill).catch(logTeardown(ctx.log, 'killing a process whose stdio failed', { cid: containerId, pid }));
    throw err;
  } finally {
    clearTimeout(timer);
    unsubscribe();
    await listeners.close();
  }
}

function destroyStreams(s: StdioStreams): void {
  for (const stream of [s.stdin, s.stdout, s.stderr]) stream?.destroy();
}
