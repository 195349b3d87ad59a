/** createLogger: logrus text at the configured level; calls for a level that is off cost nothing. */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger, rootLogger } from '../../src/log/index.js';

function sink(): { stream: Writable; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString().trim());
      cb();
    },
  });
  return { stream, lines };
}

describe('createLogger', () => {
  it('writes enabled levels in logrus text and drops the others, for children too', () => {
    const { stream, lines } = sink();
    const log = createLogger({ level: 'info', stream, fields: { tid: 't1' } });
    log.debug('hidden', { k: 1 });
    log.info('shown', { k: 2 });
    const child = log.child({ cid: 'c1' });
    child.debug('hidden too');
    child.warn('child shown');
    const { warn } = log;
    warn('detached');
    assert.equal(lines.length, 3, lines.join('\n'));
    assert.match(lines[0] ?? '', /^time="[^"]+" level=info msg=shown k=2 tid=t1$/);
    assert.match(lines[1] ?? '', /level=warn msg="child shown" cid=c1 tid=t1$/);
    assert.match(lines[2] ?? '', /level=warn msg=detached tid=t1$/);
  });

  it('a call for a level that is off does not even read its fields', () => {
    const log = createLogger({ level: 'info', stream: sink().stream });
    const fields = {
      get costly(): string {
        throw new Error('the fields of a disabled debug call were read');
      },
    };
    log.debug('x', fields);
    log.child({ a: 1 }).debug('y', fields);
  });

  it('raising the level later enables the level methods', () => {
    const { stream, lines } = sink();
    const log = createLogger({ level: 'info', stream });
    log.level = 'debug';
    log.debug('now shown');
    assert.equal(lines.length, 1);
  });
});

describe('createLogger fields and sink', () => {
  it("merges fields: the call's override the child's, which override the logger's; sorted, quoted like logrus", () => {
    const { stream, lines } = sink();
    const log = createLogger({ level: 'trace', stream, fields: { a: 'root', z: 1 } });
    log.child({ a: 'child', b: 'x y' }).trace('m', { a: 'call', err: new Error('boom "q"'), o: { k: [1] } });
    assert.equal(lines.length, 1);
    assert.match(
      lines[0] ?? '',
      /^time="\d{4}-\d\d-\d\dT[0-9:.]+Z" level=trace msg=m a=call b="x y" err="boom \\"q\\"" o="{\\"k\\":\[1\]}" z=1$/,
    );
  });

  it('writes one whole line per call, and drops lines once the sink has ended instead of raising an error', async () => {
    const chunks: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, cb) {
        chunks.push(chunk.toString());
        cb();
      },
    });
    let errors = 0;
    stream.on('error', () => errors++);
    const log = createLogger({ level: 'info', stream });
    log.info('one', { k: 'v' });
    stream.end();
    log.error('after end');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(chunks.length, 1);
    assert.match(chunks[0] ?? '', /level=info msg=one k=v\n$/);
    assert.equal(errors, 0);
  });

  it('emit receives the merged entry; the root logger is silent until one is installed', () => {
    const got: unknown[] = [];
    const log = createLogger({ level: 'debug', emit: (e) => got.push(e), fields: { tid: 't' } });
    log.debug('d', { n: 1 });
    log.trace('off');
    assert.deepEqual(got, [{ tid: 't', n: 1, level: 'debug', message: 'd' }]);
    assert.equal(rootLogger().isLevelEnabled('error'), false);
    assert.equal(rootLogger().level, 'info');
  });
});

describe('createLogger: a sink that fails', () => {
  it('is given up after its first error: later lines are not written, and the error is not uncaught', async () => {
    let writes = 0;
    const stream = new Writable({
      write(_chunk: Buffer, _enc, cb) {
        writes++;
        const err = Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });
        cb(err);
      },
    });
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown): void => void uncaught.push(e);
    process.on('uncaughtException', onUncaught);
    try {
      const log = createLogger({ stream });
      createLogger({ stream }); // a second logger on the same sink adds no second listener
      assert.equal(stream.listenerCount('error'), 1);
      log.info('first');
      await new Promise((r) => setImmediate(r));
      log.info('second');
      log.child({ cid: 'c' }).warn('third');
      await new Promise((r) => setImmediate(r));
      assert.equal(writes, 1);
      assert.deepEqual(uncaught, []);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });
});
