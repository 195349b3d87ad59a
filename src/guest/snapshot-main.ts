/**
 * Entry of the guest agent's V8 start-up snapshot. At build time (scripts/build-steps/40-guest-snapshot.mjs)
 * `node --build-snapshot` evaluates this bundle: every module's top level runs once there (constants, tables,
 * classes: nothing that reads the environment, the clock, the pid, the cwd or random bytes, which the build
 * step checks), and Node's built-ins the agent uses are loaded except those Node 20 does not support in a
 * snapshot (child_process, module: the build step loads them on first use instead). The emulator then starts
 * the agent as `node --snapshot-blob <blob> --no-warnings <entry> <args>`: Node deserializes that heap instead
 * of loading and evaluating the bundle, and calls runAgent, which from there runs exactly as main.ts's.
 */
import { startupSnapshot } from 'node:v8';
import { runAgent } from './agent-main.js';

startupSnapshot.setDeserializeMainFunction(() => void runAgent('snapshot'));
