/** TickWriter: what is written in one tick reaches the stream as one writev; end() flushes; ticks stay apart. */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { TickWriter } from '../../src/ttrpc/tick-writer.js';

/** A Writable that records each batch the stream hands down (write = 1 buffer, writev = n). */
function recorder(): { stream: Writable; batches: string[][] } {
  const batches: string[][] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      batches.push([chunk.toString()]);
      cb();
    },
    writev(chunks, cb) {
      batches.push(chunks.map((c) => (c.chunk as Buffer).toString()));
      cb();
    },
  });
  return { stream, batches };
}

describe('TickWriter', () => {
  it('frames written in one tick leave as one batch, in order; the next tick starts a new one', async () => {
    const { stream, batches } = recorder();
    const w = new TickWriter(stream);
    for (const f of ['a', 'b', 'c']) w.write(Buffer.from(f));
    assert.deepEqual(batches, [], 'nothing leaves before the tick ends');
    await tick();
    w.write(Buffer.from('d'));
    await tick();
    assert.deepEqual(batches, [['a', 'b', 'c'], ['d']]);
    assert.equal(stream.writableCorked, 0);
  });

  it('writes made from promise callbacks of one turn are batched together', async () => {
    const { stream, batches } = recorder();
    const w = new TickWriter(stream);
    await Promise.all([1, 2, 3, 4].map(async (i) => {
      await Promise.resolve();
      w.write(Buffer.from(String(i)));
    }));
    await tick();
    assert.deepEqual(batches, [['1', '2', '3', '4']]);
  });

  it('end() in the same tick still delivers what was written', async () => {
    const { stream, batches } = recorder();
    const w = new TickWriter(stream);
    w.write(Buffer.from('x'));
    w.write(Buffer.from('y'));
    await new Promise<void>((resolve) => stream.end(resolve));
    assert.deepEqual(batches.flat(), ['x', 'y']);
  });

  it('returns the stream answer: false once its buffer is over the high-water mark', () => {
    const stream = new Writable({ highWaterMark: 4, write: (_c, _e, cb) => setImmediate(cb) });
    const w = new TickWriter(stream);
    assert.equal(w.write(Buffer.from('ab')), true);
    assert.equal(w.write(Buffer.from('cdef')), false);
  });
});
