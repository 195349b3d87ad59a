/**
 * The shim daemon under a real containerd (1.6 and 2.4) when its peers misbehave:
 * - containerd restarts while the shim logs: lines logged while containerd was down, and the next line after
 *   the restart, reach containerd's log (the bundle's `log` FIFO survives a reader going away);
 * - a client floods the shim's socket with requests and never reads a reply: the shim stops reading it
 *   instead of buffering replies without bound, still serves containerd, and lets go when the client closes.
 * Figures (RSS) are printed as diagnostics; scripts/soak.sh keeps them.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { containerd, ttrpc } from '../../src/proto/index.js';
import { MessageType, TtrpcClient, encodeFrame } from '../../src/ttrpc/index.js';
import { CONTAINERDS, NEEDS_ROOT, RUNTIME, usePrivateContainerd, type PrivateContainerd } from './harness.js';
import { platformDial } from '../fakes/platform-dial.js';

const task = containerd.task.v2;
const SERVICE = 'containerd.task.v2.Task';

function bundleOf(ctd: PrivateContainerd, id: string): string {
  return join(ctd.tmp, 'state', 'io.containerd.runtime.v2.task', 'default', id);
}

function shimAddress(ctd: PrivateContainerd, id: string): string {
  return readFileSync(join(bundleOf(ctd, id), 'address'), 'utf8').trim();
}

/** The shim daemon's pid, from Connect. */
async function shimPid(address: string, id: string): Promise<number> {
  const client = await TtrpcClient.connect(address, { dial: platformDial });
  try {
    return task.ConnectResponse.decode(await client.call(SERVICE, 'Connect', task.ConnectRequest.encode({ id }).finish(), { timeoutMs: 10_000 })).shim_pid;
  } finally {
    await client.close();
  }
}

function rssMB(pid: number): number {
  const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Math.round(Number(kb) / 102.4) / 10;
}

/** A State call for an exec id that does not exist: the shim logs "State failed" with the id in the error. */
async function stateCall(address: string, id: string, marker: string): Promise<void> {
  const client = await TtrpcClient.connect(address, { dial: platformDial });
  try {
    await client.call(SERVICE, 'State', task.StateRequest.encode({ id, exec_id: marker }).finish(), { timeoutMs: 10_000 }).catch(() => undefined);
  } finally {
    await client.close();
  }
}

async function waitFor(check: () => boolean, what: string, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting until ${what}`);
    await sleep(100);
  }
}

for (const under of CONTAINERDS) describe(`the shim daemon when containerd restarts or a client floods it [${under.label}]`, { skip: NEEDS_ROOT, timeout: 600_000 }, () => {
  const ctd = usePrivateContainerd(undefined, under);

  async function runDetached(id: string): Promise<void> {
    ctd.assertOk(await ctd.ctr(['run', '-d', '--runtime', RUNTIME, '--rootfs', ctd.rootfs, id, '/bin/sh', '-c', 'sleep 300']), 'ctr run -d');
  }

  async function removeTask(id: string): Promise<void> {
    await ctd.ctr(['task', 'kill', '-s', 'KILL', id]);
    for (let i = 0; i < 100 && (await ctd.ctr(['task', 'delete', id])).code !== 0; i++) await sleep(100);
    await ctd.ctr(['container', 'rm', id]);
  }

  test('containerd restarts while the shim logs: what it logged meanwhile and its next line reach containerd', async () => {
    const id = 't-log-restart';
    await runDetached(id);
    try {
      const address = shimAddress(ctd, id);
      await stateCall(address, id, 'marker-before-restart');
      await waitFor(() => ctd.log().includes('marker-before-restart'), 'the shim log reaches containerd');
      await ctd.stopDaemon();
      await stateCall(address, id, 'marker-while-down'); // written into a FIFO nobody reads: EPIPE
      await stateCall(address, id, 'marker-while-down-2');
      await ctd.start();
      await stateCall(address, id, 'marker-after-restart');
      await waitFor(() => ctd.log().includes('marker-after-restart'), 'the next shim line after the restart reaches containerd');
      const log = ctd.log();
      assert.ok(log.includes('marker-while-down-2'), 'lines logged while containerd was down arrive after the restart');
      assert.ok(log.indexOf('marker-while-down-2') < log.indexOf('marker-after-restart'), 'in order');
      // The restarted containerd still drives the task through the same shim.
      const ls = await ctd.ctr(['task', 'ls']);
      assert.match(ls.stdout, new RegExp(`${id}\\s+\\d+\\s+RUNNING`));
    } finally {
      await removeTask(id);
    }
  });

  test('a client that floods Connect requests and never reads is paused; containerd is still served; closing lets go', async (t) => {
    const id = 't-flood';
    await runDetached(id);
    let sock: Socket | undefined;
    try {
      const pid = await shimPid(shimAddress(ctd, id), id);
      const before = rssMB(pid);
      const path = shimAddress(ctd, id).replace(/^unix:\/\//, '');
      sock = createConnection(path);
      await new Promise<void>((resolve, reject) => sock?.once('connect', resolve).once('error', reject));
      sock.pause(); // never reads a reply
      const req = ttrpc.Request.encode({ service: SERVICE, method: 'Connect', payload: task.ConnectRequest.encode({ id }).finish() }).finish();
      const total = 200_000;
      const batch = 100;
      // Write batch after batch; a batch whose write does not complete within 3 s means the shim stopped
      // reading (a shim that reads on, however slowly, takes 5 KB in far less).
      let accepted = 0;
      let stalled = false;
      for (let i = 0; i < total && !stalled; i += batch) {
        const buf = Buffer.concat(Array.from({ length: batch }, (_, k) => encodeFrame(2 * (i + k) + 1, MessageType.Request, 0, req)));
        let timer: NodeJS.Timeout | undefined;
        const written = await Promise.race([
          new Promise<boolean>((resolve) => sock?.write(buf, () => resolve(true))),
          new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 3000))),
        ]);
        clearTimeout(timer);
        if (written) accepted += batch;
        else stalled = true;
      }
      const unsent = total - accepted;
      assert.ok(stalled, `the shim stopped reading a client that does not read (it took all ${total} requests: before flow control it buffered every reply)`);
      const during = rssMB(pid);
      // containerd is still served while the flooding connection is paused.
      const ps = await ctd.ctr(['task', 'ls']);
      assert.match(ps.stdout, new RegExp(`${id}\\s+\\d+\\s+RUNNING`));
      sock.destroy();
      sock = undefined;
      await sleep(1000);
      const after = rssMB(pid);
      t.diagnostic(`shim RSS: ${before} MB before, ${during} MB while ${total} requests flooded (the shim stopped reading after ${accepted}; ${unsent} never sent), ${after} MB after the client closed`);
    } finally {
      sock?.destroy();
      await removeTask(id);
    }
  });
});
