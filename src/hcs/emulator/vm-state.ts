/**
 * Lifecycle of an emulated compute system.
 *
 *   Created ──start──▶ Starting ──agent spawned──▶ Running ──shutdown/terminate──▶ Stopping ──agent exit──▶ Stopped
 *      │                  │ spawn failed               │ agent exits by itself (unexpected)                     ▲
 *      │                  └──────▶ Created             └────────────────────────────────────────────────────────┤
 *      └────────────────────────── shutdown/terminate (nothing to stop; the VM dir is cleaned) ─────────────────┘
 *
 * | from \ op | start        | shutdown / terminate       | modify       | properties |
 * |-----------|--------------|----------------------------|--------------|------------|
 * | Created   | → Starting   | → Stopped                  | ok           | ok         |
 * | Starting  | InvalidState | waits for start, then stop | ok           | ok         |
 * | Running   | InvalidState | → Stopping                 | ok           | ok         |
 * | Stopping  | InvalidState | waits (terminate escalates)| InvalidState | "Running"  |
 * | Stopped   | InvalidState | ok (already stopped)       | InvalidState | ok         |
 * HCS reports Starting as "Created" and Stopping as "Running".
 */
export enum VmState {
  Created = 'Created',
  Starting = 'Starting',
  Running = 'Running',
  Stopping = 'Stopping',
  Stopped = 'Stopped',
}

/** The State string HCS would report. */
export function hcsStateName(state: VmState): 'Created' | 'Running' | 'Stopped' {
  switch (state) {
    case VmState.Created:
    case VmState.Starting:
      return 'Created';
    case VmState.Running:
    case VmState.Stopping:
      return 'Running';
    case VmState.Stopped:
      return 'Stopped';
  }
}
