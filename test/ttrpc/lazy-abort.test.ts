/** LazyAbort: the signal is made on first read; an abort before that read is not lost. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LazyAbort } from '../../src/ttrpc/lazy-abort.js';

describe('LazyAbort', () => {
  it('a signal read before the abort fires once, with the reason', () => {
    const a = new LazyAbort();
    const s = a.signal;
    assert.equal(a.signal, s, 'one signal per call');
    let fired = 0;
    s.addEventListener('abort', () => fired++);
    const reason = new Error('deadline');
    a.abort(reason);
    a.abort(new Error('closed'));
    assert.equal(fired, 1);
    assert.equal(s.aborted, true);
    assert.equal(s.reason, reason, 'the first reason wins');
  });

  it('a signal first read after the abort is already aborted, with that reason', () => {
    const a = new LazyAbort();
    const reason = new Error('connection closed');
    a.abort(reason);
    assert.equal(a.signal.aborted, true);
    assert.equal(a.signal.reason, reason);
  });

  it('never aborted: the signal stays clear', () => {
    assert.equal(new LazyAbort().signal.aborted, false);
  });
});
