/** serve's log level from the runtime options `start` forwards on stdin (serve-options.ts), and the bounded stdin read. */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import { containerd, google } from '../../src/proto/index.js';
import { readAllBounded, serveLogSettings } from '../../src/shim/serve-options.js';

const runhcs = (o: { log_level?: string; debug?: boolean }, typeUrl = 'containerd.runhcs.v1.Options'): Uint8Array =>
  google.protobuf.Any.encode({ type_url: typeUrl, value: containerd.runhcs.v1.Options.encode(o).finish() }).finish();

describe('serve log settings', () => {
  test('nothing on stdin: the -debug flag decides', () => {
    assert.deepEqual(serveLogSettings(new Uint8Array(), false), { level: 'info', source: 'default' });
    assert.deepEqual(serveLogSettings(new Uint8Array(), true), { level: 'debug', source: 'debug' });
  });

  test('log_level sets the level and overrides debug (option or flag); logrus names map onto ours', () => {
    assert.equal(serveLogSettings(runhcs({ log_level: 'trace' }), false).level, 'trace');
    assert.deepEqual(serveLogSettings(runhcs({ log_level: 'warn', debug: true }), true), { level: 'warn', source: 'log_level' });
    assert.equal(serveLogSettings(runhcs({ log_level: 'warning' }), false).level, 'warn');
    assert.equal(serveLogSettings(runhcs({ log_level: 'fatal' }), false).level, 'error');
    assert.equal(serveLogSettings(runhcs({ log_level: 'DEBUG' }), false).level, 'debug');
  });

  test('debug in the options without log_level means debug; a type URL with a prefix is accepted', () => {
    assert.deepEqual(serveLogSettings(runhcs({ debug: true }, 'type.googleapis.com/containerd.runhcs.v1.Options'), false), { level: 'debug', source: 'debug' });
  });

  test('an unknown log_level is a warning and falls back; other messages on stdin carry no options', () => {
    const bad = serveLogSettings(runhcs({ log_level: 'loud' }), false);
    assert.equal(bad.level, 'info');
    assert.match(bad.warning ?? '', /unknown log_level "loud"/);
    // containerd 2.x BootstrapParams {instance_id=1, namespace=2} also decodes as an Any: not runhcs options.
    const bootstrap = google.protobuf.Any.encode({ type_url: 'instance-1', value: Buffer.from('k8s.io') }).finish();
    assert.deepEqual(serveLogSettings(bootstrap, false), { level: 'info', source: 'default' });
    assert.match(serveLogSettings(Buffer.from([0x0a, 0xff]), false).warning ?? '', /do not decode/);
  });
});

describe('readAllBounded', () => {
  test('reads to the end', async () => {
    const s = new PassThrough();
    const got = readAllBounded(s, 10_000);
    s.write('ab');
    s.end('cd');
    assert.equal((await got).toString(), 'abcd');
  });

  test('a stream that never ends is cut at the timeout with what arrived', async () => {
    const s = new PassThrough();
    s.write('partial');
    assert.equal((await readAllBounded(s, 50)).toString(), 'partial');
  });

  test('more than maxBytes stops the read', async () => {
    const s = new PassThrough();
    const got = readAllBounded(s, 10_000, 4);
    s.write('abc');
    s.write('defg');
    assert.equal((await got).toString(), 'abc');
  });
});
