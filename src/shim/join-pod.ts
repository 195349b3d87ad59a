/**
 * `start` for a pod's workload container (runhcs start.go): containerd runs `start` once per container of
 * a pod, with cwd = that container's bundle, and uses whatever address it prints. A workload joins the pod's
 * shim: dial the sandbox's shim, check it with Connect, write its pid and address into the workload's
 * bundle and print its address. Loaded only for bundles with CRI annotations. On Linux the executable's sh
 * `start` makes the same join itself when it can be sure without Connect (scripts/build-steps/shim-wrapper.sh
 * join_pod_start: the pod's bundle, its socket, its live daemon); this runs otherwise, and on Windows.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { logTeardown, rootLogger } from '../log/index.js';
import { invalidArgument, unavailable } from '../errdefs/index.js';
import { containerd } from '../proto/index.js';
import { CriAnnotation, podRole } from '../sandbox/index.js';
import type { PlatformTransport } from '../transport/index.js';
import { TtrpcClient } from '../ttrpc/index.js';
import type { ShimFlags } from './flags.js';
import { writeFileAtomic } from './reexec-start.js';

const CONNECT_TIMEOUT_MS = 5_000;

/**
 * `start` of a container with CRI annotations: a workload joins its pod's shim (the address to print); a
 * sandbox is served by a shim of its own (undefined: start one), and its id must be the shim's.
 */
export async function startInPod(flags: ShimFlags, bundle: string, transport: PlatformTransport): Promise<string | undefined> {
  const spec = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8')) as { annotations?: Record<string, string> };
  const role = podRole(spec.annotations ?? {});
  if (role.kind === 'container') return joinPodShim(flags, bundle, role.sandboxId, transport);
  if (role.kind === 'sandbox' && role.sandboxId !== flags.id) {
    throw invalidArgument(`'id' and ${CriAnnotation.SandboxId} must match for a sandbox: '${flags.id}' != '${role.sandboxId}'`);
  }
  return undefined;
}

/** Joins the running shim of pod `sandboxId`; returns its address for stdout. */
async function joinPodShim(flags: ShimFlags, bundle: string, sandboxId: string, transport: PlatformTransport): Promise<string> {
  const address = transport.shimAddress(flags.namespace, sandboxId, flags.address);
  const signal = AbortSignal.timeout(CONNECT_TIMEOUT_MS);
  let client: TtrpcClient;
  try {
    client = new TtrpcClient(await transport.dial(address, signal));
  } catch (err) {
    throw unavailable(`cannot reach the shim of pod ${sandboxId} at ${address}: ${(err as Error).message}`, err);
  }
  let shimPid: number;
  try {
    const request = containerd.task.v2.ConnectRequest.encode({ id: sandboxId }).finish();
    const reply = await client.call('containerd.task.v2.Task', 'Connect', request, { timeoutMs: CONNECT_TIMEOUT_MS });
    shimPid = containerd.task.v2.ConnectResponse.decode(reply).shim_pid ?? 0;
  } catch (err) {
    throw unavailable(`the shim of pod ${sandboxId} did not answer Connect: ${(err as Error).message}`, err);
  } finally {
    await client.close().catch(logTeardown(rootLogger(), 'closing the connection to the pod shim', { address }));
  }
  if (!Number.isInteger(shimPid) || shimPid <= 0) throw invalidArgument(`the shim of pod ${sandboxId} reported pid ${shimPid}`);
  writeFileAtomic(join(bundle, 'shim.pid'), String(shimPid));
  writeFileAtomic(join(bundle, 'address'), address);
  return address;
}
