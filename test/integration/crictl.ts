/**
 * crictl against a private containerd's CRI, for the pod suites (pause-container mode and the Sandbox API):
 * one call, a container config file, and the wait for a container's exit.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CRICTL, type PrivateContainerd } from './harness.js';

export interface CrictlResult { code: number; stdout: string; stderr: string }

export function crictl(ctd: PrivateContainerd, args: string[]): Promise<CrictlResult> {
  return new Promise((resolve) => {
    const ep = `unix://${ctd.sock}`;
    execFile(CRICTL, ['-r', ep, '-i', ep, '-t', '60s', ...args], { timeout: 120_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** Writes a container config (`image`, `command`, log file `<name>.log`, CRI `mounts`) and returns its path. */
export function containerConfig(ctd: PrivateContainerd, image: string, name: string, command: string[],
  mounts: ReadonlyArray<Record<string, unknown>> = []): string {
  const path = join(ctd.tmp, `${name}-ctr.json`);
  writeFileSync(path, JSON.stringify({ metadata: { name }, image: { image }, command, log_path: `${name}.log`, linux: {}, mounts }));
  return path;
}

/** Polls `crictl inspect` until the container has exited; `ok` turns a failed call into an assertion. */
export async function exited(ctd: PrivateContainerd, id: string, ok: (r: CrictlResult, what: string) => string): Promise<{ state: string; exitCode: number }> {
  for (let i = 0; i < 300; i++) {
    const s = JSON.parse(ok(await crictl(ctd, ['inspect', id]), 'crictl inspect')) as { status: { state: string; exitCode: number } };
    if (s.status.state === 'CONTAINER_EXITED') return s.status;
    await sleep(100);
  }
  throw new Error(`container ${id} never exited`);
}
