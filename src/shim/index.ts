/**
 * shim: containerd's runtime v2 shim for io.containerd.lcow.v1 — the process contract (start, delete,
 * serve), the Task service (ttrpc edge + logic), task/exec state machines, events and stdio.
 * Layer boundaries: the top of src/: the VM and the guest only through sandbox; nothing imports it but cmd/.
 * Protobuf types stop at its edge (service.ts, events).
 * May import: async, sandbox, transport, ttrpc, proto, vhd, reclaim, log, errdefs.
 */
export { main } from './entry.js';
export { hasReleasedTask } from './released-task.js';
