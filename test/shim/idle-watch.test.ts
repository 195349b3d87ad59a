import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { IdleReclaim } from '../../src/reclaim/index.js';
import { LONG_POLLS, watchedMethods } from '../../src/shim/idle-watch.js';
import type { RpcContext, UnaryHandler } from '../../src/ttrpc/index.js';

/** Records what the watched handlers report, in order. */
function recorder(): { idle: IdleReclaim; calls: string[] } {
  const calls: string[] = [];
  const idle = {
    watching: true,
    begin: (longPoll = false) => calls.push(`begin${longPoll ? ' long' : ''}`),
    end: (longPoll = false) => calls.push(`end${longPoll ? ' long' : ''}`),
  };
  return { idle: idle as unknown as IdleReclaim, calls };
}

const ctx = {} as RpcContext;
const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);

describe('shim: every request is reported to the idle reclaim (idle-watch.ts)', () => {
  it('Wait and WaitSandbox are the long polls', () => {
    assert.deepEqual([...LONG_POLLS].sort(), ['Wait', 'WaitSandbox']);
  });

  it('begin as the call arrives, end once it is answered; the reply bytes pass through unchanged', async () => {
    const { idle, calls } = recorder();
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const methods = watchedMethods({ State: async (p) => { await gate; return bytes(...p, 0xff); } }, idle);
    const answer = methods.State!(bytes(1, 2), ctx);
    assert.deepEqual(calls, ['begin'], 'not ended while in flight');
    release();
    assert.deepEqual(await answer, bytes(1, 2, 0xff));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(calls, ['begin', 'end']);
  });

  it('a failed call ends too, and its error reaches the server unchanged', async () => {
    const { idle, calls } = recorder();
    const err = new Error('task t1: container not created');
    const methods = watchedMethods({ Start: () => Promise.reject(err) }, idle);
    await assert.rejects(methods.Start!(bytes(), ctx), (e) => e === err);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(calls, ['begin', 'end']);
  });

  it('a handler that throws before returning a promise: ended, and the throw propagates', () => {
    const { idle, calls } = recorder();
    const err = new TypeError('boom');
    const methods = watchedMethods({ Kill: (() => { throw err; }) as unknown as UnaryHandler }, idle);
    assert.throws(() => methods.Kill!(bytes(), ctx), (e) => e === err);
    assert.deepEqual(calls, ['begin', 'end']);
  });

  it('Wait is reported as a long poll, both ways', async () => {
    const { idle, calls } = recorder();
    const methods = watchedMethods({ Wait: async () => bytes(8), Delete: async () => bytes(9) }, idle);
    await methods.Wait!(bytes(), ctx);
    await methods.Delete!(bytes(), ctx);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(calls, ['begin long', 'end long', 'begin', 'end']);
    assert.deepEqual(Object.keys(methods), ['Wait', 'Delete'], 'the same method names');
  });

  it('once the reclaim is done (not watching): calls go straight to the handler, nothing reported, same reply', async () => {
    const { idle, calls } = recorder();
    (idle as unknown as { watching: boolean }).watching = false;
    const reply = bytes(7);
    const methods = watchedMethods({ State: () => Promise.resolve(reply), Wait: () => Promise.resolve(reply) }, idle);
    assert.equal(await methods.State!(bytes(), ctx), reply);
    assert.equal(await methods.Wait!(bytes(), ctx), reply);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(calls, []);
  });
});
