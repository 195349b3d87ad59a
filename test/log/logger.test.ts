/** createLogger: logrus text at the configured level; calls for a level that is off cost nothing. */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger } from '../../src/log/index.js';

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
