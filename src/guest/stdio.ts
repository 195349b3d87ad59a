/**
 * Per-stream stdio connections. For every non-zero port in VsockStdioRelaySettings the guest DIALS the
 * host's listener (<vmDir>/vsock/<port>.sock), retrying briefly (the real guest retries 10 × 100 ms), before
 * it starts the process. stdin is dialled half-open: the host's half-close is the process's stdin EOF.
 */
import type { Socket } from 'node:net';
import type { ExecuteProcessVsockStdioRelaySettings } from '../gcs/protocol/index.js';
import { dialWithRetry } from './dial.js';
import { failed, invalidArg } from './errors.js';
import type { StdioSockets } from './process.js';
import type { VmPaths } from './vm-paths.js';

const port = (v: unknown, name: string): number | undefined => {
  if (v === undefined || v === null || v === 0) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) throw invalidArg(`VsockStdioRelaySettings.${name} is not a port`);
  return v;
};

export async function connectStdio(paths: VmPaths, relay: ExecuteProcessVsockStdioRelaySettings | undefined): Promise<StdioSockets> {
  const ports = { stdin: port(relay?.StdIn, 'StdIn'), stdout: port(relay?.StdOut, 'StdOut'), stderr: port(relay?.StdErr, 'StdErr') };
  const out: StdioSockets = {};
  try {
    for (const name of ['stdin', 'stdout', 'stderr'] as const) {
      const p = ports[name];
      if (p === undefined) continue;
      out[name] = await dialWithRetry(paths.vsockPath(p), { attempts: 10, intervalMs: 100, allowHalfOpen: name === 'stdin' }).catch(
        (err: unknown) => {
          throw failed(`failed to connect ${name} to vsock port ${p}`, err);
        },
      );
    }
  } catch (err) {
    closeStdio(out);
    throw err;
  }
  return out;
}

export function closeStdio(s: StdioSockets): void {
  for (const sock of [s.stdin, s.stdout, s.stderr] as (Socket | undefined)[]) sock?.destroy();
}
