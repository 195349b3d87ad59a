/**
 * The guest agent's process: its arguments (or, pre-loaded, the boot messages of warm-boot.ts), its logger,
 * signals and exit status (see main.ts). Run by main.ts, the agent's entry.
 */
import type { Writable } from 'node:stream';
import { BridgeDroppedError, GuestAgent } from './agent.js';
import { parseGuestArgs, readGuestEnv, UsageError } from './flags.js';
import { GuestLogger } from './log.js';
import { applyBoot, awaitBoot, awaitsBoot } from './warm-boot.js';

/** `stderr`: the host's log connection (vsockexec -e), fd 2 or, pre-loaded, the socket the emulator handed over. */
async function main(argv: readonly string[], stderr: Writable): Promise<number> {
  let opts;
  let env;
  try {
    opts = parseGuestArgs(argv);
    env = readGuestEnv(process.env);
  } catch (err) {
    if (err instanceof UsageError) {
      stderr.write(`gcs: ${err.message}\nusage: main.js -v4 [-log-format json|text] [-loglevel trace|debug|info|warning|error] [-disable-time-sync] [other /bin/gcs flags]\n`);
      return 2;
    }
    throw err;
  }
  // stderr is the host's log socket (vsock 109); if the host stops reading, drop logs instead of looping on EPIPE.
  let stderrBroken = false;
  stderr.on('error', () => {
    stderrBroken = true;
  });
  const write = (line: string): void => {
    if (!stderrBroken) stderr.write(line);
  };
  const log = new GuestLogger({ level: opts.logLevel, format: opts.logFormat, write });
  const agent = new GuestAgent({ vmDir: env.vmDir, entropyPort: env.entropyPort, log });
  let exiting = false;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (exiting) return;
    exiting = true;
    log.info('received signal, shutting down', { signal: sig });
    void agent.stop().then(() => exitAfter(stderr, 0));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('uncaughtException', (err) => log.error('uncaught exception', { error: err, stack: err.stack }));
  process.on('unhandledRejection', (err) => log.error('unhandled rejection', { error: err }));
  log.info('guest agent starting', {
    vmDir: env.vmDir, pid: process.pid, scrubLogs: opts.scrubLogs,
    ...(opts.disableTimeSync ? { disableTimeSync: true } : {}),
    ...(opts.coreDumpLocation ? { coreDumpLocation: opts.coreDumpLocation } : {}),
  });
  if (opts.accepted) log.info('flags accepted without effect in the emulated VM', opts.accepted);
  try {
    await agent.run();
    return 0;
  } catch (err) {
    if (err instanceof BridgeDroppedError) return 1; // the fatal line is logged
    log.fatal('guest agent failed', { error: err });
    await agent.stop();
    return 1;
  }
}

/** Exits once what was written to `stderr` is out (a handed-over socket writes asynchronously; bounded). */
function exitAfter(stderr: Writable, code: number): void {
  if (stderr === process.stderr) process.exit(code);
  const timer = setTimeout(() => process.exit(code), 1000);
  stderr.end(() => {
    clearTimeout(timer);
    process.exit(code);
  });
}

/** Runs the agent to its exit (process.exit with main's status). */
export async function runAgent(): Promise<void> {
  let stderr: Writable = process.stderr;
  try {
    if (!awaitsBoot()) {
      exitAfter(stderr, await main(process.argv.slice(2), stderr));
      return;
    }
    const boot = await awaitBoot();
    if (boot === undefined) process.exit(0); // discarded before any VM started: nothing was done
    applyBoot(boot);
    stderr = boot.stdio[2] ?? process.stderr;
    exitAfter(stderr, await main(boot.argv, stderr));
  } catch (err) {
    stderr.write(`gcs: ${String(err)}\n`);
    exitAfter(stderr, 1);
  }
}
