/** containerd's Go-style shim flags (src/shim/flags.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode, ShimError } from '../../src/errdefs/index.js';
import { SHIM_NAME, parseShimFlags, shimHelp } from '../../src/shim/flags.js';

const START = ['-namespace', 'default', '-address', '/a', '-publish-binary', '/usr/bin/containerd', '-id', 't1', 'start'];

function invalid(argv: string[], message: RegExp): void {
  assert.throws(() => parseShimFlags(argv), (err: unknown) => {
    assert.ok(err instanceof ShimError, String(err));
    assert.equal(err.code, ErrorCode.InvalidArgument);
    assert.match(err.message, message);
    return true;
  });
}

describe('shim flags', () => {
  it('parses the start command containerd runs', () => {
    assert.deepEqual(parseShimFlags(START), {
      action: 'start', namespace: 'default', id: 't1', address: '/a', publishBinary: '/usr/bin/containerd',
      bundle: '', socket: '', debug: false, rest: [],
    });
  });

  it('parses the delete command with -bundle and -debug (1.7+ passes it to delete)', () => {
    const f = parseShimFlags(['-namespace', 'k8s.io', '-address', '/run/c.sock', '-publish-binary', '/bin/c', '-id', 'abc',
      '-bundle', '/run/containerd/io.containerd.runtime.v2.task/k8s.io/abc', '-debug', 'delete']);
    assert.equal(f.action, 'delete');
    assert.equal(f.bundle, '/run/containerd/io.containerd.runtime.v2.task/k8s.io/abc');
    assert.equal(f.debug, true);
    assert.equal(f.namespace, 'k8s.io');
  });

  it('accepts --name value, -name=value and --name=value', () => {
    assert.equal(parseShimFlags(['--id=x', 'start']).id, 'x');
    assert.equal(parseShimFlags(['-id=y', 'start']).id, 'y');
    assert.equal(parseShimFlags(['--id', 'z', 'start']).id, 'z');
    assert.equal(parseShimFlags(['-publish-binary=/usr/bin/containerd', 'start']).publishBinary, '/usr/bin/containerd');
    assert.equal(parseShimFlags(['--socket=/s', 'serve']).socket, '/s');
  });

  it('keeps ids and namespaces as strings, even when they look like numbers', () => {
    const f = parseShimFlags(['-namespace', '0755', '-id', '007', 'start']);
    assert.equal(f.id, '007');
    assert.equal(f.namespace, '0755');
  });

  it('-debug is a boolean that takes no value; -debug=false turns it off', () => {
    assert.equal(parseShimFlags(['-debug', 'start']).debug, true);
    assert.equal(parseShimFlags(['-debug=false', 'start']).debug, false);
    assert.equal(parseShimFlags(['-id', 't', '-debug']).debug, true);
  });

  it('without an action it is the daemon (serve)', () => {
    assert.equal(parseShimFlags(['-namespace', 'ns', '-id', 't1', '-socket', '/s']).action, 'serve');
    assert.equal(parseShimFlags(['serve']).action, 'serve');
  });

  it('stops at the action, as Go flag does: later words are left for the action', () => {
    const f = parseShimFlags(['-id', 't1', 'uvm-doc', '--options', 'f', '-debug', '--bogus']);
    assert.equal(f.action, 'uvm-doc');
    assert.deepEqual(f.rest, ['--options', 'f', '-debug', '--bogus']);
    assert.equal(f.debug, false);
    assert.deepEqual(parseShimFlags(['uvm-doc', '--help']).rest, ['--help']);
    assert.equal(parseShimFlags(['uvm-doc', '--help']).action, 'uvm-doc');
  });

  it('an unknown flag is InvalidArgument naming it', () => {
    invalid(['-bogus', 'x', 'start'], /bogus/);
    invalid(['--frobnicate', 'start'], /frobnicate/);
  });

  it('-info (containerd 2.x asks the runtime for its RuntimeInfo) is the info action', () => {
    assert.equal(parseShimFlags(['-info']).action, 'info');
    assert.equal(parseShimFlags(['--info']).action, 'info');
  });

  it('an unknown action is InvalidArgument naming it and the valid ones', () => {
    invalid(['-id', 't1', 'destroy'], /'destroy'.*start, delete/);
  });

  it('-v, -version and --version ask for the version', () => {
    for (const v of [['-v'], ['--version'], ['-version'], ['-id', 't1', '-v', 'start']]) {
      assert.equal(parseShimFlags(v).action, 'version', v.join(' '));
    }
  });

  it('--help, -help and -h ask for the help', () => {
    for (const v of [['--help'], ['-help'], ['-h'], ['-id', 't', '--help', 'start']]) {
      assert.equal(parseShimFlags(v).action, 'help', v.join(' '));
    }
  });

  it('the help names the binary, the flags and the actions', async () => {
    const text = await shimHelp();
    assert.match(text, new RegExp(SHIM_NAME));
    for (const word of ['--namespace', '--address', '--publish-binary', '--id', '--bundle', '--debug', 'start', 'delete', 'uvm-doc']) {
      assert.ok(text.includes(word), `help mentions ${word}`);
    }
  });
});
