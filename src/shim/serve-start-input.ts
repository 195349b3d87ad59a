/**
 * containerd's stdin to `start` when the executable's sh `start` (scripts/build-steps/shim-wrapper.sh) starts
 * `serve` itself: sh reads a non-empty stdin (containerd 2.3+'s BootstrapParams, or an older containerd's runtime
 * options) to EOF into `<bundle>/.start-stdin.<its pid>` and names that file in LCOW_SHIM_START_INPUT. `serve`
 * reads it first thing, before it listens, decodes it as Node's `start` does (bootstrap.ts), applies it to its
 * own environment as Node's start would to the daemon's (start-env.ts: socket dir, log level, events address,
 * runtime options), and appends the reply `start` must print to its "listening" line (serve-listener.ts):
 * containerd 2.3+'s protobuf BootstrapResult as printf octal escapes (`\ooo` per byte), which sh prints; nothing
 * for an older containerd, which gets the plain address. serve never removes the file: sh does, and when serve
 * says nothing (it failed, and left nothing behind) sh hands that file to Node's start as its stdin.
 *
 * The variable counts only beside the sh start's ready fd (LCOW_SHIM_READY_FD, no LCOW_SHIM_LISTEN_FD); it is
 * taken out of the environment either way, so nothing serve starts inherits it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CriAnnotation, podRole } from '../sandbox/index.js';
import { ignoreErrno, invalidArgument, trySync } from '../errdefs/index.js';
import type { ShimFlags } from './flags.js';
import { LISTEN_FD_ENV, READY_FD_ENV, type ListeningReply } from './serve-listener.js';
import { applyToEnv, daemonStartEnv, useSocketDir } from './start-env.js';

export const START_INPUT_ENV = 'LCOW_SHIM_START_INPUT';

/**
 * For a `serve` the sh start launched: checks the bundle is one sh may start it for (checkShStartBundle), applies
 * the spooled stdin (if sh passed one) to `env` and returns the reply builder; undefined when there is none.
 * Throws when either cannot be done: serve then fails before it listens, and Node's start runs.
 */
export async function takeStartInput(env: NodeJS.ProcessEnv, flags: ShimFlags, bundle: string): Promise<ListeningReply | undefined> {
  const file = env[START_INPUT_ENV];
  delete env[START_INPUT_ENV];
  if (env[READY_FD_ENV] === undefined || env[LISTEN_FD_ENV] !== undefined) return undefined;
  checkShStartBundle(bundle, flags.id);
  if (!file) return undefined;
  const bytes = readFileSync(file);
  const { parseStartInput, startReply, taskApiVersionFor } = await import('./bootstrap.js');
  const input = parseStartInput(bytes, flags.id, flags.namespace);
  useSocketDir(input, env);
  applyToEnv(env, daemonStartEnv(input, flags.debug));
  const version = taskApiVersionFor(bundle);
  return (address) => {
    const reply = startReply(address, input, version);
    return typeof reply === 'string' ? '' : ` ${printfOctal(reply)}`;
  };
}

/**
 * `bytes` as printf(1) octal escapes, three digits each (so a digit after an escape is never read as part of
 * it). A zero byte is refused: sh cannot carry it through a variable (a BootstrapResult never holds one: its
 * only varints are the version and a length, neither zero).
 */
export function printfOctal(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) {
    if (b === 0) throw new Error('the start reply holds a zero byte, which sh cannot print');
    out += `\\${(b >> 6) & 7}${(b >> 3) & 7}${b & 7}`;
  }
  return out;
}

/**
 * The sh `start` starts `serve` for a standalone task, for a CRI pod's sandbox (its spec names the type
 * "sandbox") and for a Sandbox API sandbox (a bundle without a spec: bootstrap.ts taskApiVersionFor), never for
 * a pod's workload container, which joins its pod's daemon (in sh: shim-wrapper.sh join_pod_start; else Node's
 * start: join-pod.ts). sh only greps the spec, so serve checks the role as Node's start would (podRole: the
 * annotations must be consistent, and a sandbox's id must be this task's) and throws otherwise: it then fails
 * before it listens, and Node's start decides (joins the pod, or reports the bad annotations). A spec that
 * cannot be read (other than not being there) throws too.
 */
export function checkShStartBundle(bundle: string, id: string): void {
  const text = trySync(() => readFileSync(join(bundle, 'config.json'), 'utf8'), ignoreErrno('ENOENT'));
  if (text === undefined) return; // no spec: a Sandbox API sandbox's bundle
  if (!text.includes('io.kubernetes.cri.')) return;
  const annotations = (JSON.parse(text) as { annotations?: Record<string, string> }).annotations ?? {};
  const role = podRole(annotations);
  if (role.kind === 'container') throw invalidArgument(`a pod's container (${CriAnnotation.SandboxId}=${role.sandboxId}) joins its pod's daemon: no daemon of its own`);
  if (role.kind === 'sandbox' && role.sandboxId !== id) {
    throw invalidArgument(`'id' and ${CriAnnotation.SandboxId} must match for a sandbox: '${id}' != '${role.sandboxId}'`);
  }
}
