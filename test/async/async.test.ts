import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { handledElsewhere, Mutex, settlesWithin, whenSettled } from '../../src/async/index.js';

/** Unhandled rejections reported while `fn` runs and for two turns of the event loop after it. */
async function unhandledDuring(fn: () => void): Promise<unknown[]> {
  const seen: unknown[] = [];
  const onUnhandled = (reason: unknown): void => void seen.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    fn();
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
  return seen;
}

describe('async: settlesWithin', () => {
  it('is true for a promise that fulfils or rejects in time, false for one that does not settle', async () => {
    assert.equal(await settlesWithin(Promise.resolve(1), 60_000), true);
    assert.equal(await settlesWithin(Promise.reject(new Error('x')), 60_000), true);
    assert.equal(await settlesWithin(new Promise(() => undefined), 0), false);
  });

  it('is false at once when the signal aborts first (or was aborted already), and leaves the promise alone', async () => {
    const ac = new AbortController();
    const never = new Promise(() => undefined);
    const racing = settlesWithin(never, 60_000, ac.signal);
    ac.abort();
    assert.equal(await racing, false);
    assert.equal(await settlesWithin(Promise.resolve(), 60_000, ac.signal), false);
    assert.equal(await settlesWithin(Promise.resolve(), 60_000, new AbortController().signal), true);
  });

  it('does not turn a late rejection into an unhandled one', async () => {
    let reject!: (e: Error) => void;
    const late = new Promise((_, r) => (reject = r));
    assert.equal(await settlesWithin(late, 0), false);
    assert.deepEqual(await unhandledDuring(() => reject(new Error('late'))), []);
  });
});

describe('async: handledElsewhere and whenSettled', () => {
  it('handledElsewhere returns the same promise, still rejecting for whoever awaits it, and reports nothing unhandled', async () => {
    let p!: Promise<never>;
    const seen = await unhandledDuring(() => {
      p = Promise.reject(new Error('observed later'));
      assert.equal(handledElsewhere(p), p);
    });
    assert.deepEqual(seen, []);
    await assert.rejects(p, /observed later/);
  });

  it('whenSettled resolves undefined once the promise fulfils or rejects', async () => {
    assert.equal(await whenSettled(Promise.resolve(5)), undefined);
    assert.equal(await whenSettled(Promise.reject(new Error('x'))), undefined);
    let settled = false;
    let resolve!: () => void;
    const w = whenSettled(new Promise<void>((r) => (resolve = r))).then(() => (settled = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(settled, false);
    resolve();
    await w;
    assert.equal(settled, true);
  });
});

describe('Mutex', () => {
  it('runs sections one at a time in call order; each caller gets its own outcome; a failure does not stop the next', async () => {
    const m = new Mutex();
    const log: string[] = [];
    let release!: () => void;
    const first = m.run(async () => {
      log.push('first begins');
      await new Promise<void>((r) => (release = r));
      log.push('first ends');
      return 1;
    });
    const second = m.run(async () => {
      log.push('second');
      throw new Error('second failed');
    });
    const third = m.run(async () => (log.push('third'), 3));
    let settled = false;
    void m.settled().then(() => (settled = true));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(log, ['first begins']);
    assert.equal(settled, false);
    release();
    assert.equal(await first, 1);
    await assert.rejects(second, /second failed/);
    assert.equal(await third, 3);
    await m.settled();
    assert.equal(settled, true);
    assert.deepEqual(log, ['first begins', 'first ends', 'second', 'third']);
  });
});
