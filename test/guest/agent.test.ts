/**
 * The agent process (main.js) without containers: boot entropy, dialling the GCS port with retries, exit
 * when the bridge drops, even when the host has stopped reading its log stream.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { encodeFrame, FrameDecoder, parseJsonBody, requestType, RPCNegotiateProtocol } from '../../src/gcs/protocol/index.js';
import { cleanupVmDir, startGuest, tempDir } from './support/fixtures.js';
import { UnixListener } from './support/unix-listener.js';

describe('guest agent process', () => {
  const dirs: string[] = [];
  after(() => dirs.forEach(cleanupVmDir));

  it('drains the entropy port, dials the GCS port once it exists, serves, and exits 1 with a fatal line when the bridge drops (as the real GCS)', async () => {
    const vmDir = tempDir();
    dirs.push(vmDir);
    mkdirSync(join(vmDir, 'vsock'));
    let entropyDrained: () => void = () => {};
    const drained = new Promise<void>((resolve) => (entropyDrained = resolve));
    const entropy = createServer((s) => {
      s.end(Buffer.alloc(512, 7));
      s.on('close', () => entropyDrained());
    }).listen(join(vmDir, 'vsock', '1.sock'));
    const guest = startGuest(vmDir, { LCOW_GUEST_ENTROPY_PORT: '1' });
    await drained;
    await sleep(300); // the guest is now retrying the GCS port, which nobody listens on yet
    const gcs = await UnixListener.listen(join(vmDir, 'vsock', '1073741824.sock'));
    const conn = await gcs.accept();
    conn.write(encodeFrame(requestType(RPCNegotiateProtocol), 0, { MinimumVersion: 4, MaximumVersion: 4 }));
    const decoder = new FrameDecoder();
    const reply = await new Promise<Record<string, unknown>>((resolve) => conn.on('data', (d: Buffer) => decoder.decode(d).forEach((f) => resolve(parseJsonBody(f.body)))));
    assert.equal(reply['Version'], 4);
    conn.destroy();
    assert.equal(await guest.exited, 1);
    assert.equal(existsSync(join(vmDir, 'bin')), false, 'the VM\'s runc wrapper waits for a process in the VM itself');
    assert.ok(guest.logs.some((l) => /"level":"fatal"/.test(l) && /"msg":"failed to serve gcs service"/.test(l)), guest.logs.join('\n'));
    assert.ok(guest.logs.some((l) => /"msg":"read entropy"/.test(l) && /"bytes":512/.test(l)));
    entropy.close();
    await gcs.close();
  });

  it('exits cleanly on SIGTERM while still dialling the GCS port', async () => {
    const vmDir = tempDir();
    dirs.push(vmDir);
    const guest = startGuest(vmDir);
    // Not a fixed sleep: on a loaded machine node may not have installed its handlers yet.
    for (let i = 0; i < 300 && !guest.logs.some((l) => l.includes('guest agent starting')); i++) await sleep(20);
    await sleep(100); // now dialling the GCS port
    guest.child.kill('SIGTERM');
    assert.equal(await guest.exited, 0);
  });
});
