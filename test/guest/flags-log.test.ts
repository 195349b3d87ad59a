import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { formatLogLine, parseGuestArgs, readGuestEnv, rfc3339Nano, splitCommandLine, UsageError } from '../../src/guest/index.js';
import { guestMain } from './support/fixtures.js';

describe('guest flags', () => {
  it('parses the kernel command line arguments of /bin/gcs', () => {
    assert.deepEqual(parseGuestArgs(['-v4', '-log-format', 'json', '-loglevel', 'debug']), { v4: true, logFormat: 'json', logLevel: 'debug', scrubLogs: true, disableTimeSync: false, coreDumpLocation: '' });
    assert.deepEqual(parseGuestArgs(['--v4=true', '--log-format=text', '-loglevel=warn']), { v4: true, logFormat: 'text', logLevel: 'warning', scrubLogs: true, disableTimeSync: false, coreDumpLocation: '' });
    assert.deepEqual(parseGuestArgs(['-v4']), { v4: true, logFormat: 'text', logLevel: 'info', scrubLogs: true, disableTimeSync: false, coreDumpLocation: '' });
    // The real GCS's -scrub-logs, -disable-time-sync and -core-dump-location (hcsshim appends them).
    assert.deepEqual(parseGuestArgs(['-v4', '-scrub-logs=false', '-disable-time-sync', '-core-dump-location', '/dumps/core.%p']), {
      v4: true, logFormat: 'text', logLevel: 'info', scrubLogs: false, disableTimeSync: true, coreDumpLocation: '/dumps/core.%p',
    });
  });

  it('accepts the rest of the real GCS flag set (-disable-time-sync …), validated like Go', () => {
    const argv = ['-v4', '-disable-time-sync', '-logfile', '/run/gcs.log', '-kmsgLogLevel', '4', '-root-mem-reserve-bytes', '18446744073709551615', '--initial-policy-stance=deny', '-use-inouterr=true', '-gcs-mem-limit-bytes=52428800'];
    assert.deepEqual(parseGuestArgs(argv).accepted, {
      logfile: '/run/gcs.log', kmsgLogLevel: '4', 'root-mem-reserve-bytes': '18446744073709551615',
      'initial-policy-stance': 'deny', 'use-inouterr': 'true', 'gcs-mem-limit-bytes': '52428800',
    });
    for (const bad of [['-use-inouterr=maybe'], ['-kmsgLogLevel', '-1'], ['-kmsgLogLevel', '4294967296'], ['-root-mem-reserve-bytes', '18446744073709551616'], ['-initial-policy-stance', 'maybe'], ['-logfile']]) {
      assert.throws(() => parseGuestArgs(['-v4', ...bad]), UsageError, JSON.stringify(bad));
    }
  });

  for (const argv of [[], ['-v4=false'], ['-v4', '-log-format', 'xml'], ['-v4', '-loglevel'], ['-v4', '-loglevel', 'loud'], ['-v4', '-bogus'], ['-v4', 'extra'], ['-v4', '-scrub-logs=no'], ['-v4', '-core-dump-location']]) {
    it(`rejects ${JSON.stringify(argv)}`, () => assert.throws(() => parseGuestArgs(argv), UsageError));
  }

  it('reads the environment contract', () => {
    assert.deepEqual(readGuestEnv({ LCOW_GUEST_VM_DIR: '/vm/x/', LCOW_GUEST_ENTROPY_PORT: '1' }), { vmDir: '/vm/x', entropyPort: 1 });
    assert.deepEqual(readGuestEnv({ LCOW_GUEST_VM_DIR: '/vm/x' }), { vmDir: '/vm/x', entropyPort: undefined });
    assert.throws(() => readGuestEnv({}), UsageError);
    assert.throws(() => readGuestEnv({ LCOW_GUEST_VM_DIR: 'rel' }), UsageError);
    assert.throws(() => readGuestEnv({ LCOW_GUEST_VM_DIR: '/vm', LCOW_GUEST_ENTROPY_PORT: 'x1' }), UsageError);
  });

  it('main.js exits 2 without -v4 and without LCOW_GUEST_VM_DIR', () => {
    const env = { ...process.env };
    delete env['LCOW_GUEST_VM_DIR'];
    const noV4 = spawnSync(process.execPath, [guestMain, '-log-format', 'json'], { env: { ...env, LCOW_GUEST_VM_DIR: '/tmp/x' }, encoding: 'utf8' });
    assert.equal(noV4.status, 2);
    assert.match(noV4.stderr, /-v4 is required/);
    const noDir = spawnSync(process.execPath, [guestMain, '-v4'], { env, encoding: 'utf8' });
    assert.equal(noDir.status, 2);
    assert.match(noDir.stderr, /LCOW_GUEST_VM_DIR/);
  });

  it('splits a CommandLine like a simple shell', () => {
    assert.deepEqual(splitCommandLine(`ls -l "/a b" 'c d' e\\"f`), ['ls', '-l', '/a b', 'c d', 'e\\"f']);
    assert.deepEqual(splitCommandLine('   '), []);
  });
});

describe('guest logging (logrus format)', () => {
  const t = new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 670));

  it('prints RFC3339Nano with trailing zeros dropped', () => {
    assert.equal(rfc3339Nano(t), '2024-01-02T03:04:05.67Z');
    assert.equal(rfc3339Nano(new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 0))), '2024-01-02T03:04:05Z');
    assert.equal(rfc3339Nano(new Date(-62167219200000 + 5)), '0000-01-01T00:00:00.005Z');
  });

  it('prints the text toISOString gives, trailing zeros dropped, for 20000 instants of years 0000–9999', () => {
    let seed = 7;
    const next = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const lo = -62167219200000;
    const hi = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
    for (let i = 0; i < 20000; i++) {
      const d = new Date(Math.floor(lo + next() * (hi - lo)));
      const want = d.toISOString().replace(/\.(\d+)Z$/, (_m, f: string) => (f.replace(/0+$/, '') ? `.${f.replace(/0+$/, '')}Z` : 'Z'));
      assert.equal(rfc3339Nano(d), want, String(d.getTime()));
    }
  });

  it('writes JSON lines with sorted keys, errors as messages', () => {
    const line = formatLogLine('json', 'warning', 'hello', { zeta: 1, cid: 'c1', error: new Error('boom'), skip: undefined }, t);
    assert.equal(line, '{"cid":"c1","error":"boom","level":"warning","msg":"hello","time":"2024-01-02T03:04:05.67Z","zeta":1}');
  });

  it('does not let fields override time, level or msg', () => {
    const obj = JSON.parse(formatLogLine('json', 'info', 'm', { level: 'error', msg: 'x', time: 'y' }, t)) as Record<string, unknown>;
    assert.deepEqual(obj, { level: 'info', msg: 'm', time: '2024-01-02T03:04:05.67Z' });
  });

  it('writes text lines like logrus', () => {
    assert.equal(formatLogLine('text', 'info', 'two words', { pid: 7, path: '/a b' }, t), 'time="2024-01-02T03:04:05.67Z" level=info msg="two words" path="/a b" pid=7');
  });
});
