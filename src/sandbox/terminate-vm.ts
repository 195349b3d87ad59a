import { isHcsCode } from '../errdefs/index.js';
import { logTeardown, type Logger } from '../log/index.js';

/** 'terminated': a VM was found and stopped; 'absent': none; 'left': one whose owner still runs; 'failed'. */
export type TerminateVmResult = 'terminated' | 'absent' | 'left' | 'failed';

const describe = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * Opens the task's utility VM through the HCS backend and terminates it. `delete` has already stopped
 * this task's daemon, whose VM (ShouldTerminateOnLastHandleClosed) is then Stopped, its handles gone
 * with it; a VM with this id that is still Created or Running is held by a live process (a task of the
 * same id in another namespace: the VM id has no namespace, as in hcsshim) and is left alone.
 */
export async function terminateUtilityVm(vmId: string, timeoutMs: number, log: Logger): Promise<TerminateVmResult> {
  let hcs: typeof import('../hcs/index.js') | undefined;
  let system;
  try {
    hcs = await import('../hcs/index.js');
    const api = await hcs.createHcsApi({ logger: log });
    system = await api.openComputeSystem(vmId, { timeoutMs });
  } catch (err) {
    if (isSystemNotFound(err)) return 'absent';
    log.warn('delete: cannot open the utility VM', { 'uvm-id': vmId, error: describe(err) });
    return 'failed';
  }
  try {
    const state = (await system.properties(undefined, { timeoutMs })).State;
    if (state === 'Running' || state === 'Created') {
      log.warn('delete: the utility VM belongs to another live process; leaving it', { 'uvm-id': vmId, state });
      return 'left';
    }
    const began = Date.now();
    await system.terminate({ timeoutMs });
    log.warn('delete: terminated the utility VM the shim left behind', { 'uvm-id': vmId, state, ms: Date.now() - began });
    return 'terminated';
  } catch (err) {
    if (isSystemNotFound(err)) return 'absent';
    log.warn('delete: terminating the utility VM failed', { 'uvm-id': vmId, error: describe(err) });
    return 'failed';
  } finally {
    await system.close().catch(logTeardown(log, 'delete: closing the utility VM handle', { 'uvm-id': vmId }));
  }

  function isSystemNotFound(err: unknown): boolean {
    return hcs !== undefined && err instanceof hcs.HcsError && isHcsCode(err.hresult, 0x010e);
  }
}
