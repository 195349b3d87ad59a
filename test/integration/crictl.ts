/**
 * crictl against a private containerd's CRI, for the pod suites (pause-container mode and the Sandbox API):
 * one call and its checked form, the images both suites import, a container config file, the wait for a
 * container's exit, and the instance's shim daemons.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { processes } from '../fixtures/procfs.js';
import { PAUSE_IMAGE } from './cri-config.js';
import { CRICTL, type PrivateContainerd } from './harness.js';
import { buildOciArchive } from './oci-image.js';

/** The workload image both pod suites import (busybox's rootfs, `/bin/sh`). */
export const CRI_IMAGE = 'docker.io/library/lcowbox:latest';

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

/** A checked call: asserts exit 0 (with stderr and containerd's log tail) and returns the trimmed stdout. */
export function crictlOk(ctd: PrivateContainerd): (r: CrictlResult, what: string) => string {
  return (r, what) => {
    assert.equal(r.code, 0, `${what} failed (${r.code}): ${r.stderr}\n--- containerd log tail ---\n${ctd.log().slice(-3000)}`);
    return r.stdout.trim();
  };
}

/**
 * Imports the pause image (CRI checks it exists; the Sandbox API mode never runs it) and CRI_IMAGE into the
 * k8s.io namespace, once per containerd.
 */
export async function importCriImages(ctd: PrivateContainerd): Promise<void> {
  if ((await ctd.ctr(['-n', 'k8s.io', 'images', 'ls', '-q'])).stdout.includes(CRI_IMAGE)) return;
  for (const [name, cmd, dir] of [[PAUSE_IMAGE, ['/bin/sleep', '2147483647'], 'pause'], [CRI_IMAGE, ['/bin/sh'], 'box']] as const) {
    const work = join(ctd.tmp, `img-${dir}`);
    mkdirSync(work, { recursive: true });
    ctd.assertOk(await ctd.ctr(['-n', 'k8s.io', 'images', 'import', buildOciArchive(ctd.rootfs, work, name, { Cmd: [...cmd], Env: ['PATH=/bin'] })]), `import ${name}`);
  }
}

/** Processes whose command line matches `pred` (the tests' one /proc reader). */
export { processes };

/** This instance's shim daemons (`serve` processes whose -address is this containerd's). */
export const shimDaemons = (ctd: PrivateContainerd): number[] =>
  processes((a) => a.includes('serve') && a[a.indexOf('-address') + 1] === ctd.sock);
