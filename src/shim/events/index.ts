/**
 * shim/events: publishes task lifecycle events to containerd (Events/Forward over ttrpc, on TTRPC_ADDRESS).
 *
 * Layer boundaries: part of src/shim. Imports src/ttrpc (client), src/proto (the event messages), src/log and
 * src/errdefs. Callers hand in internal camelCase TaskEvents; protobuf stays inside this folder. Ordering
 * rules that depend on task state (start before exit, execs' exits before the init's) are the caller's:
 * this module delivers strictly in publish order. Wire facts: PROTOCOL.md.
 */
export type * from './task-event.js';
export { createEventPublisher } from './publisher.js';
export type { EventPublisher, EventPublisherOptions } from './publisher.js';
export { connectTtrpc } from './event-sink.js';
export type { EventConnect, EventConnection } from './event-sink.js';
export {
  EVENTS_SERVICE,
  FORWARD_METHOD,
  TASK_EVENT_TOPICS,
  TASK_EVENT_TYPE_URLS,
  encodeForwardRequest,
  encodeTaskEvent,
} from './encode-event.js';
export type { EncodedEvent } from './encode-event.js';
