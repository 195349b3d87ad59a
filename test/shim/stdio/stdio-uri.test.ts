import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode, ShimError } from '../../../src/errdefs/index.js';
import { fifoPath, parseStdioMode, stdioScheme } from '../../../src/shim/stdio/index.js';

const invalid = (text: string) => (err: unknown): boolean =>
  err instanceof ShimError && err.code === ErrorCode.InvalidArgument && err.message.includes(text);

describe('stdio strings', () => {
  it('takes a plain path, "" and fifo:// as FIFO mode', () => {
    assert.deepEqual(parseStdioMode('/run/containerd/fifo/1/c1-stdout'), { kind: 'fifo' });
    assert.deepEqual(parseStdioMode(''), { kind: 'fifo' });
    assert.deepEqual(parseStdioMode('fifo:///run/x'), { kind: 'fifo' });
    assert.deepEqual(parseStdioMode('FIFO:///run/x'), { kind: 'fifo' });
  });

  it('strips only a fifo:// prefix from FIFO paths', () => {
    assert.equal(fifoPath('fifo:///run/x/c1-stdin'), '/run/x/c1-stdin');
    assert.equal(fifoPath('/run/x/c1-stdin'), '/run/x/c1-stdin');
    assert.equal(fifoPath('relative/c1'), 'relative/c1');
  });

  it('reads file:///path (percent-decoded) as an append file', () => {
    assert.deepEqual(parseStdioMode('file:///var/log/c%201.log'), { kind: 'file', path: '/var/log/c 1.log' });
  });

  it('reads binary:///path?k=v as the binary and its arguments (key, first value; keys in order)', () => {
    assert.deepEqual(parseStdioMode('binary:///usr/bin/logger?id=abc&to=%2Ftmp%2Fx&flag&id=ignored'), {
      kind: 'binary',
      path: '/usr/bin/logger',
      args: ['id', 'abc', 'to', '/tmp/x', 'flag', ''],
    });
    assert.deepEqual(parseStdioMode('binary:///bin/log'), { kind: 'binary', path: '/bin/log', args: [] });
  });

  it('refuses any other scheme with `unknown STDIO scheme <scheme>`', () => {
    assert.throws(() => parseStdioMode('http://example.com/x'), invalid('unknown STDIO scheme http'));
    assert.throws(() => parseStdioMode('npipe://./pipe/x'), invalid('unknown STDIO scheme npipe'));
  });

  it('refuses a file or binary URI without an absolute path', () => {
    assert.throws(() => parseStdioMode('binary://relative'), invalid('needs an absolute path'));
    assert.throws(() => parseStdioMode('binary:'), invalid('needs an absolute path'));
  });

  it('finds the scheme the way Go url.Parse does', () => {
    assert.equal(stdioScheme('/a:b'), '');
    assert.equal(stdioScheme('a+b.c-d:rest'), 'a+b.c-d');
    assert.equal(stdioScheme('1abc:rest'), '');
  });
});
