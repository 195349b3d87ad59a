/**
 * Entry of the guest agent the Linux HCS emulator boots as the utility VM's /bin/gcs:
 *   node <dist>/src/guest/main.js -v4 -log-format json -loglevel debug
 * with LCOW_GUEST_VM_DIR (required) and LCOW_GUEST_ENTROPY_PORT (optional) in the environment. Exit status
 * 0 after a normal end (VM shutdown, SIGTERM), 1 when the host drops the bridge (logged as fatal "failed to
 * serve gcs service", as the real GCS) or on another fatal error, 2 on a usage error.
 */
import { BridgeDroppedError, GuestAgent } from './agent.js';
import { parseGuestArgs, readGuestEnv, UsageError } from './flags.js';
import { GuestLogger } from './log.js';

async function main(): Promise<number> {
  let opts;
  let env;
  try {
    opts = parseGuestArgs(process.argv.slice(2));
    env = readGuestEnv(process.env);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`gcs: ${err.message}\nusage: main.js -v4 [-log-format json|text] [-loglevel trace|debug|info|warning|error] [-disable-time-sync] [other /bin/gcs flags]\n`);
      return 2;
    }
    throw err;
  }
  // stderr is the host's log socket (vsock 109); if the host stops reading, drop logs instead of looping on EPIPE.
  let stderrBroken = false;
  process.stderr.on('error', () => {
    stderrBroken = true;
  });
  const write = (line: string): void => {
    if (!stderrBroken) process.stderr.write(line);
  };
  const log = new GuestLogger({ level: opts.logLevel, format: opts.logFormat, write });
  const agent = new GuestAgent({ vmDir: env.vmDir, entropyPort: env.entropyPort, log });
  let exiting = false;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (exiting) return;
    exiting = true;
    log.info('received signal, shutting down', { signal: sig });
    void agent.stop().then(() => process.exit(0));
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

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`gcs: ${String(err)}\n`);
    process.exit(1);
  },
);
