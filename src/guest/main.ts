/**
 * Entry of the guest agent the Linux HCS emulator boots as the utility VM's /bin/gcs:
 *   node <dist>/src/guest/main.js -v4 -log-format json -loglevel debug
 * with LCOW_GUEST_VM_DIR (required) and LCOW_GUEST_ENTROPY_PORT (optional) in the environment. Exit status
 * 0 after a normal end (VM shutdown, SIGTERM), 1 when the host drops the bridge (logged as fatal "failed to
 * serve gcs service", as the real GCS) or on another fatal error, 2 on a usage error.
 * Spawned pre-loaded by the emulator (env LCOW_GUEST_AWAIT_BOOT=1, warm-boot.ts), it first waits for the
 * arguments, environment and vsock connections that a Start hands it, then runs the same way.
 */
import { runAgent } from './agent-main.js';

void runAgent();
