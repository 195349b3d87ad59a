/**
 * The daemon's log level, one rule (log-level.ts): runtime options log_level > containerd 2.3+'s bootstrap level
 * > -debug (or the options' debug) > info; and how `start` hands it to `serve` (environment, read once).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { chooseShimLogLevel, LOG_LEVEL_ENV, LOG_LEVEL_FROM_ENV, LOG_LEVEL_WARNING_ENV, logrusLevel, shimLogEnv, takeShimLogLevel } from '../../src/shim/log-level.js';

describe('the shim log level rule', () => {
  test('each rule beats every later one', () => {
    assert.deepEqual(chooseShimLogLevel({ logLevel: 'info', bootstrap: 'trace', debug: true }), { level: 'info', source: 'log_level' });
    assert.deepEqual(chooseShimLogLevel({ logLevel: 'trace', bootstrap: 'warn', debug: false }), { level: 'trace', source: 'log_level' });
    assert.deepEqual(chooseShimLogLevel({ bootstrap: 'info', debug: true }), { level: 'info', source: 'bootstrap' });
    assert.deepEqual(chooseShimLogLevel({ bootstrap: 'trace', debug: false }), { level: 'trace', source: 'bootstrap' });
    assert.deepEqual(chooseShimLogLevel({ debug: true }), { level: 'debug', source: 'debug' });
    assert.deepEqual(chooseShimLogLevel({ debug: false }), { level: 'info', source: 'default' });
    assert.deepEqual(chooseShimLogLevel({ logLevel: '', debug: true }), { level: 'debug', source: 'debug' });
  });

  test('an unknown log_level is skipped with a warning: the next rule decides', () => {
    const a = chooseShimLogLevel({ logLevel: 'loud', bootstrap: 'warn', debug: true });
    assert.equal(a.level, 'warn');
    assert.equal(a.source, 'bootstrap');
    assert.match(a.warning ?? '', /unknown log_level "loud"/);
    assert.deepEqual({ ...chooseShimLogLevel({ logLevel: 'loud', debug: true }), warning: undefined }, { level: 'debug', source: 'debug', warning: undefined });
  });

  test('logrus names map onto ours', () => {
    assert.equal(logrusLevel('warning'), 'warn');
    assert.equal(logrusLevel('FATAL'), 'error');
    assert.equal(logrusLevel('panic'), 'error');
    assert.equal(logrusLevel('Debug'), 'debug');
    assert.equal(logrusLevel('verbose'), undefined);
  });

  test('start → serve: the environment carries the choice, is read once and removed', () => {
    const env: NodeJS.ProcessEnv = { KEEP: '1', ...shimLogEnv(chooseShimLogLevel({ logLevel: 'info', debug: true })) };
    // -debug on serve's command line does not undo start's choice
    assert.deepEqual(takeShimLogLevel(env, true), { level: 'info', source: 'log_level' });
    assert.deepEqual(Object.keys(env).filter((k) => env[k] !== undefined), ['KEEP']);
    const warned: NodeJS.ProcessEnv = { ...shimLogEnv(chooseShimLogLevel({ logLevel: 'loud', debug: false })) };
    const got = takeShimLogLevel(warned, false);
    assert.equal(got.level, 'info');
    assert.match(got.warning ?? '', /unknown log_level/);
    assert.equal(warned[LOG_LEVEL_WARNING_ENV], undefined);
  });

  test('serve without start (no environment): -debug alone decides; garbage in the environment is ignored', () => {
    assert.deepEqual(takeShimLogLevel({}, true), { level: 'debug', source: 'debug' });
    assert.deepEqual(takeShimLogLevel({}, false), { level: 'info', source: 'default' });
    assert.deepEqual(takeShimLogLevel({ [LOG_LEVEL_ENV]: 'nonsense', [LOG_LEVEL_FROM_ENV]: 'x' }, true), { level: 'debug', source: 'debug' });
    assert.deepEqual(takeShimLogLevel({ [LOG_LEVEL_ENV]: 'warn', [LOG_LEVEL_FROM_ENV]: 'x' }, true), { level: 'warn', source: 'default' });
  });
});
