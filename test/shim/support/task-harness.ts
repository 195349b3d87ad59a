/**
 * A TaskService wired to the fakes of test/fakes, plus a real bundle directory (config.json and a rootfs
 * directory) in a temp folder: the service tier (b) harness for task-service and event-order tests.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as tick } from 'node:timers/promises';
import { TaskService } from '../../../src/shim/task-service.js';
import type { CreateTaskOptions, StdioPaths } from '../../../src/shim/task/types.js';
import { FakeSandboxFactory, RecordingPublisher, silentLogger } from '../../fakes/index.js';
import type { FakeGuestContainer, FakeSandbox } from '../../fakes/index.js';
import { createTransport } from '../../../src/transport/index.js';

export const TASK_ID = 't1';
export const NULL_IO: StdioPaths = { stdin: '', stdout: '', stderr: '', terminal: false };
export const TTY_IO: StdioPaths = { stdin: '', stdout: '', stderr: '', terminal: true };
export const EXEC_SPEC: Record<string, unknown> = { args: ['sh', '-c', 'true'], cwd: '/', env: ['PATH=/bin'] };

/** A minimal LCOW config.json: a linux section, a process, root.path relative to the bundle. */
export function minimalSpec(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ociVersion: '1.0.2',
    process: { args: ['sleep', '100'], cwd: '/', env: ['PATH=/bin'] },
    root: { path: 'rootfs', readonly: false },
    linux: { namespaces: [{ type: 'pid' }] },
    ...overrides,
  };
}

/** Makes a bundle dir with config.json (`spec`, or raw text) and an empty rootfs dir. */
export async function makeBundle(spec: Record<string, unknown> | string = minimalSpec()): Promise<string> {
  const bundle = await mkdtemp(join(tmpdir(), 'shim-task-'));
  await mkdir(join(bundle, 'rootfs'));
  await writeFile(join(bundle, 'config.json'), typeof spec === 'string' ? spec : JSON.stringify(spec));
  return bundle;
}

export interface Harness {
  readonly svc: TaskService;
  readonly events: RecordingPublisher;
  readonly factory: FakeSandboxFactory;
  readonly bundle: string;
  /** The `now` flag of every requestExit call. */
  readonly exitRequests: boolean[];
  /** The bundle of every onTaskReleased call. */
  readonly released: string[];
  /** The sandbox of the created task. */
  readonly sandbox: FakeSandbox;
  /** The task's guest container. */
  readonly container: FakeGuestContainer;
  createOptions(overrides?: Partial<CreateTaskOptions>): CreateTaskOptions;
  dispose(): Promise<void>;
}

export async function harness(spec?: Record<string, unknown> | string, extra: { killWatchdogMs?: number } = {}): Promise<Harness> {
  const bundle = await makeBundle(spec);
  const events = new RecordingPublisher();
  const factory = new FakeSandboxFactory();
  const exitRequests: boolean[] = [];
  const released: string[] = [];
  const svc = new TaskService({
    shimId: TASK_ID,
    namespace: 'ns1',
    log: silentLogger(),
    events,
    sandboxes: factory.factory,
    transport: createTransport(),
    requestExit: (now) => exitRequests.push(now),
    onTaskReleased: (b) => released.push(b),
    ...extra,
  });
  return {
    svc,
    events,
    factory,
    bundle,
    exitRequests,
    released,
    get sandbox() {
      return factory.last;
    },
    get container() {
      return factory.last.container;
    },
    createOptions: (o = {}) => ({ id: TASK_ID, bundle, rootfs: [], stdio: NULL_IO, checkpoint: '', ...o }),
    async dispose() {
      // Leave nothing running: exit every fake process still alive, then drop the bundle.
      for (const s of factory.sandboxes) for (const c of s.containers) for (const p of c.processes) if (!p.hasExited) p.exit(137);
      await svc.dispose().catch(() => undefined);
      await rm(bundle, { recursive: true, force: true });
    },
  };
}

/** Create + Start of the init; returns the init's fake process. */
export async function runningTask(h: Harness) {
  await h.svc.create(h.createOptions());
  await h.svc.start(TASK_ID, '');
  return h.container.process(0);
}

/** Exec + Start of an exec; returns its fake process. */
export async function runningExec(h: Harness, execId: string, stdio: StdioPaths = NULL_IO) {
  await h.svc.exec({ id: TASK_ID, execId, stdio, spec: EXEC_SPEC });
  const before = h.container.processes.length;
  await h.svc.start(TASK_ID, execId);
  return h.container.process(before);
}

/** Lets pending promise chains run (a few macrotask turns). */
export async function settle(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await tick();
}
