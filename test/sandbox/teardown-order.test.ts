/**
 * The container teardown order (lcow-container.ts): stop, release every share, and only then
 * DeleteContainerState — never while a share may still be mounted, since the real GCS deletes the bundle
 * through its mounts. The integration tests check the same end to end with the rootfs digest.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Container, GuestConnection } from '../../src/gcs/index.js';
import { LcowContainer } from '../../src/sandbox/lcow-container.js';
import { captureLogger } from '../fakes/index.js';

interface FixtureOptions {
  /** The guest's answer to the init's WaitForProcess (default: never answers). */
  readonly initWait?: () => Promise<number>;
  /** The container's exit notification (default: already received). */
  readonly exit?: () => Promise<unknown>;
}

function fixture(release: () => Promise<void>, o: FixtureOptions = {}): { lc: LcowContainer; calls: string[]; lines: Array<Record<string, unknown>> } {
  const calls: string[] = [];
  const container = {
    id: 'c1',
    start: async () => void calls.push('start'),
    executeProcess: async () => ({ pid: 42, wait: o.initWait ?? (() => new Promise(() => undefined)), close: () => undefined }),
    waitExit: o.exit ?? (() => Promise.resolve({ type: 'UnexpectedExit', result: 0, resultInfo: undefined })),
    shutdownGraceful: async () => void calls.push('ShutdownGraceful'),
    shutdownForced: async () => void calls.push('ShutdownForced'),
  } as unknown as Container;
  const gc = { deleteContainerState: async (id: string) => void calls.push(`DeleteContainerState ${id}`) } as unknown as GuestConnection;
  const { logger, lines } = captureLogger();
  const lc = new LcowContainer(container, gc, logger, async () => {
    calls.push('release shares');
    await release();
  });
  return { lc, calls, lines };
}

describe('container teardown order', () => {
  it('stops the init, releases the shares, then sends DeleteContainerState', async () => {
    const { lc, calls } = fixture(async () => undefined);
    await lc.execute({ stdin: false, stdout: true, stderr: true, terminal: false });
    await lc.shutdown(1000);
    assert.deepEqual(calls, ['start', 'ShutdownGraceful', 'release shares', 'DeleteContainerState c1']);
  });

  it('leaves the guest state to the VM\'s end when the VM is closed next (vmClosing, as hcsshim: no DeleteContainerState)', async () => {
    const { lc, calls } = fixture(async () => undefined);
    await lc.execute({ stdin: false, stdout: true, stderr: true, terminal: false });
    await lc.shutdown(1000, { vmClosing: true });
    assert.deepEqual(calls, ['start', 'ShutdownGraceful', 'release shares']);
  });

  it('never sends DeleteContainerState when a share could not be released; warns with the container id', async () => {
    const { lc, calls, lines } = fixture(async () => {
      throw new Error('umount: target is busy');
    });
    await lc.execute({ stdin: false, stdout: true, stderr: true, terminal: false });
    await lc.shutdown(1000);
    assert.deepEqual(calls, ['start', 'ShutdownGraceful', 'release shares']);
    const warn = lines.find((l) => l['level'] === 'warn');
    assert.ok(warn, JSON.stringify(lines));
    assert.equal(warn['cid'], 'c1');
    assert.match(String(warn['error']), /target is busy/);
  });

  it('sends no ShutdownGraceful once the guest has answered the init\'s WaitForProcess (the init is gone: it would signal nothing)', async () => {
    const { lc, calls } = fixture(async () => undefined, { initWait: async () => 0 });
    const init = await lc.execute({ stdin: false, stdout: true, stderr: true, terminal: false });
    assert.equal(await init.wait(), 0);
    await lc.shutdown(1000, { vmClosing: true });
    assert.deepEqual(calls, ['start', 'release shares']);
  });

  it('still sends ShutdownGraceful while the init\'s wait has not been answered, even with the exit notification in', async () => {
    const { lc, calls } = fixture(async () => undefined, { initWait: () => new Promise(() => undefined) });
    await lc.execute({ stdin: false, stdout: true, stderr: true, terminal: false });
    await lc.shutdown(1000, { vmClosing: true });
    assert.deepEqual(calls, ['start', 'ShutdownGraceful', 'release shares']);
  });

  it('after the init\'s wait was answered, sends ShutdownForced when the exit notification does not come within the timeout', async () => {
    const { lc, calls } = fixture(async () => undefined, { initWait: async () => 0, exit: () => new Promise(() => undefined) });
    const init = await lc.execute({ stdin: false, stdout: true, stderr: true, terminal: false });
    await init.wait();
    await lc.shutdown(20, { vmClosing: true });
    assert.deepEqual(calls, ['start', 'ShutdownForced', 'release shares']);
  });

  it('a container whose init never ran is released and deleted without a shutdown', async () => {
    const { lc, calls } = fixture(async () => undefined);
    await lc.shutdown(1000);
    assert.deepEqual(calls, ['release shares', 'DeleteContainerState c1']);
  });

  it('logs a failed DeleteContainerState at warn with the container id', async () => {
    const { lc, lines } = fixture(async () => undefined);
    (lc as unknown as { gc: { deleteContainerState(): Promise<void> } }).gc.deleteContainerState = async () => {
      throw new Error('unlinkat /run/gcs/c/c1/rootfs: device or resource busy');
    };
    await lc.shutdown(1000);
    const warn = lines.find((l) => l['level'] === 'warn');
    assert.equal(warn?.['cid'], 'c1');
    assert.match(String(warn?.['error']), /device or resource busy/);
  });
});
