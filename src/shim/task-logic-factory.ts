import type { Logger } from '../log/index.js';
import type { PlatformTransport } from '../transport/index.js';
import { connectTtrpc, createEventPublisher } from './events/index.js';
import type { ShimFlags } from './flags.js';
import { createLcowSandboxFactory } from '../sandbox/index.js';
import { writeReleasedMarker } from './released-marker.js';
import { TaskService } from './task-service.js';

export interface TaskLogicRequest {
  readonly flags: ShimFlags;
  readonly bundle: string;
  readonly log: Logger;
  /** The platform's transport, chosen once in entry.ts. */
  readonly transport: PlatformTransport;
  readonly requestExit: (now: boolean) => void;
}

/** Wires the task service to its real collaborators: containerd's events service and LCOW sandboxes. */
export async function createTaskLogic(r: TaskLogicRequest): Promise<TaskService> {
  const events = createEventPublisher({
    ttrpcAddress: process.env.TTRPC_ADDRESS ?? '',
    namespace: r.flags.namespace,
    log: r.log,
    connect: connectTtrpc((address, signal) => r.transport.dial(address, signal)),
  });
  return new TaskService({
    shimId: r.flags.id,
    namespace: r.flags.namespace,
    log: r.log,
    events,
    sandboxes: createLcowSandboxFactory({ log: r.log, debug: r.flags.debug, transport: r.transport }),
    transport: r.transport,
    requestExit: r.requestExit,
    onTaskReleased: (bundle) => {
      writeReleasedMarker(bundle);
      r.log.debug('task released: marker left for delete', { bundle });
    },
  });
}
