import { rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { settlesWithin } from '../async/index.js';
import { createLogger, Field, isoTime, setRootLogger, type Logger } from '../log/index.js';
import { IdleReclaim, loadReclaimer } from '../reclaim/index.js';
import type { PlatformTransport } from '../transport/index.js';
import { TtrpcServer } from '../ttrpc/index.js';
import { installCrashGuard } from './crash-guard.js';
import { ShimDiagLogic } from './diag/diag-logic.js';
import { diagServices } from './diag/diag-service.js';
import type { ShimFlags } from './flags.js';
import { TASK_SERVICE_V2, TASK_SERVICE_V3, taskServiceMethods } from './service.js';
import { signalServing } from './reexec-start.js';
import { takeShimLogLevel } from './log-level.js';
import { statsWireFor } from './stats-wire.js';
import { takeRuntimeOptions } from './runtime-options-env.js';
import { logStartMilestone, openShimLog } from './shim-log.js';
import { serveListener, type ServeListener } from './serve-listener.js';
import { takeStartInput } from './serve-start-input.js';
import { openShimLogPipe } from './shim-log-pipe.js';
import { shimSocketPath } from './socket-address.js';
import { SANDBOX_SERVICE_V1, sandboxServiceMethods } from './sandbox-api/index.js';
import { createShimLogic } from './task-logic-factory.js';
import { watchedMethods } from './idle-watch.js';

/**
 * After ShutdownSandbox containerd closes its connection (ShimManager.Delete); closing ours first races its
 * ttrpc client, which may then report the reply it already has as ErrClosed (Go's select between the reply
 * and the closed connection). So the daemon waits for its peers to go, at most this long.
 */
const PEERS_GONE_MS = 2_000;

/**
 * The idle reclaim (src/reclaim): how long the daemon must have had no request, with its container running,
 * before it gives back its start-up memory (V8's start-up heap, the malloc heap's free pages), once. 250 ms:
 * well after a Create/Start burst's last reply, long before V8's own reducer (~8 s); a `ctr run --rm` of a
 * short command is deleted and gone before it.
 */
const RECLAIM_IDLE_MS = 250;

/** Windows: the -socket pipe, listened on once the services are registered (reexec-start.ts signals then). */
async function pipeListener(path: string): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, resolve);
  });
  return server;
}

/**
 * The long-running shim (`serve`): the Task service over ttrpc, registered as containerd.task.v2.Task and
 * containerd.task.v3.Task (same handlers), the Sandbox API (containerd.runtime.sandbox.v1.Sandbox, for
 * containerd 2.x's "shim" sandboxer), and hcsshim's diagnostics (ShimDiag, ExtendedTask). Exits after Shutdown once no task is left, or on SIGTERM/SIGINT.
 */
export async function serveShim(flags: ShimFlags, transport: PlatformTransport): Promise<void> {
  // containerd's stdin to the sh `start`, which it spooled for us (serve-start-input.ts): applied to our
  // environment first, since the socket path and everything after it read what it sets.
  const bundle = flags.bundle || process.cwd();
  const reply = transport.serveMode === 'ready-handshake' ? undefined : await takeStartInput(process.env, flags, bundle);
  // Linux: listen first (the socket `start` passed as fd 3, or -socket, or for the sh `start` the path Node's
  // start would use: serve-listener.ts). Windows: listen on the -socket pipe once serving, and tell `start`
  // (our parent) then (reexec-start.ts).
  const early = transport.serveMode === 'ready-handshake' ? undefined : await serveListener({
    socket: flags.socket,
    bundle,
    ownSocket: () => shimSocketPath(flags.address, flags.namespace, flags.id),
    ...(reply === undefined ? {} : { reply }),
  });
  try {
    await serveOn(early === undefined ? flags : { ...flags, socket: early.socket }, transport, early);
  } catch (err) {
    early?.abandon();
    throw err;
  }
}

async function serveOn(flags: ShimFlags, transport: PlatformTransport, early: ServeListener | undefined): Promise<void> {
  const bundle = flags.bundle || process.cwd();
  // Linux: log into the bundle's `log` FIFO. Windows: serve the log pipe.
  const handshake = transport.serveMode === 'ready-handshake';
  const sink = handshake ? await openShimLogPipe(transport, flags.namespace, flags.id) : openShimLog(bundle);
  // The level `start` chose (log-level.ts: runtime options log_level > containerd's bootstrap level > -debug),
  // passed in our environment; -debug alone when we were started without it.
  const { level, source, warning } = takeShimLogLevel(process.env, flags.debug);
  const log: Logger = createLogger({
    level,
    ...(sink ? { stream: sink } : {}),
    fields: { [Field.Namespace]: flags.namespace, [Field.TaskId]: flags.id },
  });
  setRootLogger(log);
  if (warning !== undefined) log.warn(warning);
  // The sh `start` cannot open the log FIFO without blocking: its "shim start" milestone is ours, stamped with
  // this process's start (a few ms after sh's, which ran no date(1) for it), and the line says so.
  if (flags.debug && early?.byShStart) {
    logStartMilestone(bundle, { namespace: flags.namespace, tid: flags.id, 'time-of': 'serve-process-start' }, isoTime(Date.now() - Math.round(process.uptime() * 1000)));
  }

  const statsWire = statsWireFor(transport.platform); // the types this host's containerd decodes
  const server = new TtrpcServer({ logger: log });
  // Made before `exit`, which closes it; `due` reads the task logic made below, only once requests have come.
  const idle = new IdleReclaim({
    idleMs: RECLAIM_IDLE_MS,
    due: () => logic.hasRunningProcess() || pod.active(),
    rss: () => process.memoryUsage.rss(),
    load: () => loadReclaimer(),
    onReclaimed: (r) => log.debug('memory returned while idle', {
      'rss-before-mb': mb(r.rssBefore), 'rss-after-mb': mb(r.rssAfter), cpuMs: Math.round(r.cpuMs * 10) / 10,
      v8: r.result.v8, 'malloc-trim': r.result.mallocTrim,
    }),
    onUnavailable: (reason) => log.debug('memory reclaim unavailable: V8 returns the heap on its own schedule', { reason }),
    onError: (err) => log.warn('memory reclaim failed', { error: err.message }),
  });
  let exiting = false;
  const exit = async (reason: string, graceful: boolean, afterPeers = false): Promise<void> => {
    if (exiting) return;
    exiting = true;
    log.info('shim exiting', { reason });
    idle.close(); // first: no reclaim while tearing down
    if (afterPeers && !(await settlesWithin(server.whenNoConnections(), PEERS_GONE_MS))) {
      log.warn('peers still connected after shutdown, closing', { waitedMs: PEERS_GONE_MS, connections: server.connectionCount });
    }
    await pod.dispose();
    await logic.dispose().catch((err: Error) => log.warn('cleanup on exit failed', { error: err.message }));
    // Linux: the socket goes once everything else is released and before the connections close, so that the
    // sh `delete` containerd runs on the disconnect (shim-wrapper.sh) finds it gone: from here on this process
    // only ends its connections and itself, which that `delete` does not wait for.
    if (flags.socket && !handshake) rmSync(flags.socket, { force: true });
    if (graceful) await server.shutdown();
    else server.close();
    sink?.end();
    setTimeout(() => process.exit(0), 50).unref();
  };

  const runtimeOptions = takeRuntimeOptions(process.env); // what containerd gave `start` (a Sandbox API pod's VM)
  const { tasks: logic, pod } = await createShimLogic({ flags, bundle, log, transport, runtimeOptions, requestExit: (now, afterPeers) => void exit('shutdown', !now, afterPeers) });
  installCrashGuard(log, (reason) => void exit(reason, false)); // log uncaught errors, keep serving
  const methods = watchedMethods(taskServiceMethods(logic, log, statsWire), idle);
  server.register(TASK_SERVICE_V2, methods);
  server.register(TASK_SERVICE_V3, methods);
  server.register(SANDBOX_SERVICE_V1, watchedMethods(sandboxServiceMethods(pod, log, statsWire), idle));
  const diag = new ShimDiagLogic({ shimId: flags.id, namespace: flags.namespace, log, tasks: logic, transport });
  for (const [name, diagMethods] of diagServices(diag, log)) server.register(name, watchedMethods(diagMethods, idle));
  // The handlers before we serve and say so: whoever sees that (containerd, its log, a test) may signal at once,
  // and until a handler is in place SIGTERM's default action ends the process without its cleanup.
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => void exit(sig, false));
  if (early !== undefined) {
    server.serve(early.server);
    early.handOver((conn) => server.handleConnection(conn));
  } else {
    server.serve(await pipeListener(flags.socket));
    signalServing();
  }
  log.info('shim serving', {
    socket: flags.socket, pid: process.pid, 'log-level': level, 'log-level-from': source,
    // where events go and which runtime options came with `start` (containerd 2.3+ hands both in its bootstrap)
    'events-address': process.env.TTRPC_ADDRESS ?? '', 'runtime-options': runtimeOptions?.typeUrl ?? '',
  });
}

const mb = (bytes: number): number => Math.round(bytes / 104857.6) / 10;
