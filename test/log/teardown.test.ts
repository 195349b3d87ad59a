import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger, logTeardown, type LogEntry } from '../../src/log/index.js';

describe('log: logTeardown', () => {
  it('logs at warn what failed, the error and the fields, and resolves undefined so the teardown goes on', async () => {
    const entries: LogEntry[] = [];
    const log = createLogger({ emit: (e) => entries.push(e) }).child({ cid: 'c1' });
    const after = await Promise.reject(new Error('socket gone')).catch(logTeardown(log, 'closing the listener', { port: 7 }));
    assert.equal(after, undefined);
    assert.deepEqual(entries, [{ level: 'warn', message: 'teardown: closing the listener failed', cid: 'c1', port: 7, error: 'socket gone' }]);
    logTeardown(log, 'a step')('not an Error');
    assert.equal(entries[1]?.error, 'not an Error');
  });
});
