import { failedPrecondition } from '../errdefs/index.js';

/**
 * Lifecycle of a UtilityVM.
 *
 *   Created ──start()──▶ Starting ──ok──▶ Running
 *      │                    │ failed (terminated)   │
 *      │ VM exited          ▼                       │ VM exited
 *      └──────────────▶ Stopped ◀───────────────────┘
 *   any state ──close()──▶ Closed
 *
 *   state     start()    listenVsock()  modify()   VM exit   close()
 *   Created   Starting   allowed        allowed    Stopped   Closed
 *   Starting  ✗          allowed        ✗          Stopped*  Closed (start fails Canceled)
 *   Running   ✗          allowed        allowed    Stopped   Closed
 *   Stopped   ✗          ✗              ✗          -         Closed
 *   Closed    ✗          ✗              ✗          -         no-op
 *
 * (*) start notices the exit, terminates and fails with Unavailable. ✗ = FailedPrecondition naming the
 * state. waitExit() is allowed in every state.
 */
export enum UvmState {
  Created = 'created',
  Starting = 'starting',
  Running = 'running',
  Stopped = 'stopped',
  Closed = 'closed',
}

/** Throws FailedPrecondition unless `state` is one of `allowed`. */
export function assertUvmState(id: string, state: UvmState, allowed: readonly UvmState[], op: string): void {
  if (!allowed.includes(state)) {
    throw failedPrecondition(`utility VM ${id}: cannot ${op} in state ${state} (allowed: ${allowed.join(', ')})`);
  }
}
