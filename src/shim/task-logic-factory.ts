import type { Logger } from '../log/index.js';
import type { PlatformTransport } from '../transport/index.js';
import { connectTtrpc, createEventPublisher } from './events/index.js';
import type { ShimFlags } from './flags.js';
import { createLcowSandboxFactory } from '../sandbox/index.js';
import { writeReleasedMarker } from './released-marker.js';
import { markTaskReleased } from './released-task.js';
import { PodSandbox } from './sandbox-api/index.js';
import { decodeRuntimeOptions } from './create/runtime-options.js';
import { TaskService } from './task-service.js';
import type { OpaqueAny } from './task/types.js';

export interface TaskLogicRequest {
  readonly flags: ShimFlags;
  readonly bundle: string;
  readonly log: Logger;
  /** The platform's transport, chosen once in entry.ts. */
  readonly transport: PlatformTransport;
  /** The runtime options containerd gave `start` (runtime-options-env.ts), for a Sandbox API pod's VM. */
  readonly runtimeOptions?: OpaqueAny;
  /** `afterPeers`: once containerd has closed its connections (ShutdownSandbox; serve.ts bounds the wait). */
  readonly requestExit: (now: boolean, afterPeers?: boolean) => void;
}

/**
 * Wires the task service to its real collaborators: containerd's events service and LCOW sandboxes; and
 * the Sandbox API's pod (one utility VM from the same sandbox factory), whose containers the task service
 * creates in that VM.
 */
export async function createShimLogic(r: TaskLogicRequest): Promise<{ tasks: TaskService; pod: PodSandbox }> {
  const events = createEventPublisher({
    ttrpcAddress: process.env.TTRPC_ADDRESS ?? '',
    namespace: r.flags.namespace,
    log: r.log,
    connect: connectTtrpc((address, signal) => r.transport.dial(address, signal)),
  });
  // The released marker for `delete` (released-marker.ts), for a task (TaskService) or a Sandbox API sandbox
  // (PodSandbox). Not written: `delete` then cleans up as after a dead daemon (it finds nothing), so a failure is
  // only logged.
  const leaveReleasedMarker = (what: 'task' | 'sandbox', bundle: string): void => {
    try {
      writeReleasedMarker(bundle);
      r.log.debug(`${what} released: marker left for delete`, { bundle });
    } catch (err) {
      r.log.warn(`${what} released, but its marker for delete could not be written`, { bundle, error: (err as Error).message });
    }
  };
  const sandboxes = createLcowSandboxFactory({ log: r.log, debug: r.flags.debug, transport: r.transport });
  const tasks: TaskService = new TaskService({
    shimId: r.flags.id,
    namespace: r.flags.namespace,
    log: r.log,
    events,
    sandboxes,
    transport: r.transport,
    requestExit: r.requestExit,
    onTaskReleased: (bundle) => {
      markTaskReleased();
      leaveReleasedMarker('task', bundle);
    },
    pod: { vm: () => pod.vm(), active: () => pod.active() },
  });
  const pod = new PodSandbox({
    shimId: r.flags.id, log: r.log, sandboxes, workloads: tasks, options: () => decodeRuntimeOptions(r.runtimeOptions), requestExit: () => r.requestExit(false, true),
    onReleased: (bundle) => leaveReleasedMarker('sandbox', bundle),
  });
  return { tasks, pod };
}
