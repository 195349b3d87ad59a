/**
 * The ttrpc edge of the shim diagnostics: hcsshim's containerd.runhcs.v1.diag.ShimDiag and ExtendedTask,
 * served on the shim's endpoint beside the Task service. Protobuf types stop here.
 */
import { Field, type Logger } from '../../log/index.js';
import { ComputeProcessorInfoRequest, ComputeProcessorInfoResponse, containerd } from '../../proto/index.js';
import type { UnaryHandler } from '../../ttrpc/index.js';
import { decodePayload as decode } from '../rpc-methods.js';
import type { DiagLogic } from './types.js';

export const SHIM_DIAG_SERVICE = 'containerd.runhcs.v1.diag.ShimDiag';
/** hcsshim's extendedtask.proto declares no package: the service's full name is its bare name. */
export const EXTENDED_TASK_SERVICE = 'ExtendedTask';

const diag = containerd.runhcs.v1.diag;

type Rpc = (payload: Uint8Array, logic: DiagLogic) => Promise<Uint8Array>;

const SHIM_DIAG: Readonly<Record<string, Rpc>> = {
  async DiagExecInHost(p, l) {
    const r = decode(diag.ExecProcessRequest, p);
    const code = await l.diagExecInHost({
      args: r.args ?? [], workdir: r.workdir ?? '', terminal: r.terminal ?? false,
      stdin: r.stdin ?? '', stdout: r.stdout ?? '', stderr: r.stderr ?? '',
    });
    return diag.ExecProcessResponse.encode({ exit_code: code | 0 }).finish();
  },
  async DiagStacks(p, l) {
    decode(diag.StacksRequest, p);
    const s = await l.diagStacks();
    return diag.StacksResponse.encode({ stacks: s.stacks, guest_stacks: s.guestStacks }).finish();
  },
  async DiagTasks(p, l) {
    const r = decode(diag.TasksRequest, p);
    const tasks = await l.diagTasks(r.execs ?? false);
    return diag.TasksResponse.encode({
      tasks: tasks.map((t) => ({ id: t.id, execs: t.execs.map((e) => ({ id: e.id, state: e.state })) })),
    }).finish();
  },
  async DiagShare(p, l) {
    const r = decode(diag.ShareRequest, p);
    await l.diagShare(r.host_path ?? '', r.uvm_path ?? '', r.read_only ?? false);
    return diag.ShareResponse.encode({}).finish();
  },
  async DiagPid(p, l) {
    decode(diag.PidRequest, p);
    return diag.PidResponse.encode({ pid: l.diagPid() }).finish();
  },
};

const EXTENDED_TASK: Readonly<Record<string, Rpc>> = {
  async ComputeProcessorInfo(p, l) {
    const r = decode(ComputeProcessorInfoRequest, p);
    return ComputeProcessorInfoResponse.encode({ count: await l.computeProcessorInfo(r.id ?? '') }).finish();
  },
};

function methods(table: Readonly<Record<string, Rpc>>, logic: DiagLogic, log: Logger): Record<string, UnaryHandler> {
  const out: Record<string, UnaryHandler> = {};
  for (const [name, rpc] of Object.entries(table)) {
    out[name] = async (payload: Uint8Array): Promise<Uint8Array> => {
      log.debug(`diag ${name}`, { [Field.Operation]: name });
      try {
        return await rpc(payload, logic);
      } catch (err) {
        log.debug(`${name} failed`, { [Field.Operation]: name, error: (err as Error).message });
        throw err;
      }
    };
  }
  return out;
}

/** The two services' method tables: [service name, methods]. */
export function diagServices(logic: DiagLogic, log: Logger): Array<[string, Record<string, UnaryHandler>]> {
  return [
    [SHIM_DIAG_SERVICE, methods(SHIM_DIAG, logic, log)],
    [EXTENDED_TASK_SERVICE, methods(EXTENDED_TASK, logic, log)],
  ];
}
