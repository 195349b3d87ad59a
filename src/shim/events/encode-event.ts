/**
 * TaskEvent → containerd's wire form: topic, `containerd.events.*` message, Envelope, ForwardRequest.
 * Topics and type URLs are containerd's (runtime/events.go); the type URL is the bare full message name
 * (no `type.googleapis.com/` prefix), as containerd's typeurl registry writes it.
 */
import { invalidArgument } from '../../errdefs/index.js';
import { containerd } from '../../proto/index.js';
import { toTimestamp } from '../timestamp.js';
import type { EventMount, TaskEvent, TaskEventType } from './task-event.js';

const ev = containerd.events;

/** Topic per event type. There is no /tasks/io topic (TaskIO only nests in TaskCreate). */
export const TASK_EVENT_TOPICS: Readonly<Record<TaskEventType, string>> = {
  create: '/tasks/create',
  start: '/tasks/start',
  delete: '/tasks/delete',
  exit: '/tasks/exit',
  'exec-added': '/tasks/exec-added',
  'exec-started': '/tasks/exec-started',
  oom: '/tasks/oom',
  paused: '/tasks/paused',
  resumed: '/tasks/resumed',
  checkpointed: '/tasks/checkpointed',
};

/** Any.type_url per event type. */
export const TASK_EVENT_TYPE_URLS: Readonly<Record<TaskEventType, string>> = {
  create: 'containerd.events.TaskCreate',
  start: 'containerd.events.TaskStart',
  delete: 'containerd.events.TaskDelete',
  exit: 'containerd.events.TaskExit',
  'exec-added': 'containerd.events.TaskExecAdded',
  'exec-started': 'containerd.events.TaskExecStarted',
  oom: 'containerd.events.TaskOOM',
  paused: 'containerd.events.TaskPaused',
  resumed: 'containerd.events.TaskResumed',
  checkpointed: 'containerd.events.TaskCheckpointed',
};

export const EVENTS_SERVICE = 'containerd.services.events.ttrpc.v1.Events';
export const FORWARD_METHOD = 'Forward';

export interface EncodedEvent {
  readonly topic: string;
  readonly typeUrl: string;
  /** The serialized event message (Any.value). */
  readonly value: Uint8Array;
}

/** pid and exit_status are uint32 on the wire: anything else would be silently wrapped by the encoder. */
function uint32(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw invalidArgument(`event field ${what} must be a uint32, got ${value}`);
  }
  return value;
}

function exitedAt(date: Date | undefined, what: string): { seconds: number; nanos: number } | undefined {
  if (date === undefined) return undefined;
  if (Number.isNaN(date.getTime())) throw invalidArgument(`event field ${what} is an invalid Date`);
  return toTimestamp(date);
}

const mount = (m: EventMount): containerd.types.Mount.$Properties => ({
  type: m.type,
  source: m.source,
  target: m.target ?? '',
  options: [...m.options],
});

/** Serializes one event's message. Throws InvalidArgument for values the wire cannot carry. */
function encodeMessage(e: TaskEvent): Uint8Array {
  const container_id = e.containerId;
  switch (e.type) {
    case 'create':
      return ev.TaskCreate.encode({
        container_id,
        bundle: e.bundle,
        rootfs: e.rootfs.map(mount),
        io: { stdin: e.io.stdin, stdout: e.io.stdout, stderr: e.io.stderr, terminal: e.io.terminal },
        checkpoint: e.checkpoint,
        pid: uint32(e.pid, 'pid'),
      }).finish();
    case 'start':
      return ev.TaskStart.encode({ container_id, pid: uint32(e.pid, 'pid') }).finish();
    case 'delete':
      return ev.TaskDelete.encode({
        container_id,
        pid: uint32(e.pid, 'pid'),
        exit_status: uint32(e.exitStatus, 'exitStatus'),
        exited_at: exitedAt(e.exitedAt, 'exitedAt'),
        id: e.id,
      }).finish();
    case 'exit':
      return ev.TaskExit.encode({
        container_id,
        id: e.id,
        pid: uint32(e.pid, 'pid'),
        exit_status: uint32(e.exitStatus, 'exitStatus'),
        exited_at: exitedAt(e.exitedAt, 'exitedAt'),
      }).finish();
    case 'exec-added':
      return ev.TaskExecAdded.encode({ container_id, exec_id: e.execId }).finish();
    case 'exec-started':
      return ev.TaskExecStarted.encode({ container_id, exec_id: e.execId, pid: uint32(e.pid, 'pid') }).finish();
    case 'oom':
      return ev.TaskOOM.encode({ container_id }).finish();
    case 'paused':
      return ev.TaskPaused.encode({ container_id }).finish();
    case 'resumed':
      return ev.TaskResumed.encode({ container_id }).finish();
    case 'checkpointed':
      return ev.TaskCheckpointed.encode({ container_id, checkpoint: e.checkpoint }).finish();
    default: {
      const unknown: { type?: unknown } = e;
      throw invalidArgument(`unknown task event type ${String(unknown.type)}`);
    }
  }
}

/** The topic, type URL and serialized message of one event. */
export function encodeTaskEvent(event: TaskEvent): EncodedEvent {
  return { topic: TASK_EVENT_TOPICS[event.type], typeUrl: TASK_EVENT_TYPE_URLS[event.type], value: encodeMessage(event) };
}

/**
 * A serialized ForwardRequest{Envelope{timestamp, namespace, topic, event}}. containerd rejects a zero
 * timestamp (`timestamp must be set on forwarded event`), so a zero clock reading becomes 1 ns.
 */
export function encodeForwardRequest(encoded: EncodedEvent, namespace: string, publishedAt: Date): Uint8Array {
  const ts = toTimestamp(publishedAt);
  if (ts.seconds === 0 && ts.nanos === 0) ts.nanos = 1;
  return containerd.services.events.ttrpc.v1.ForwardRequest.encode({
    envelope: {
      timestamp: ts,
      namespace,
      topic: encoded.topic,
      event: { type_url: encoded.typeUrl, value: encoded.value },
    },
  }).finish();
}
