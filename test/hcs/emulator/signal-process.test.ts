import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { createLogger, type LogEntry } from '../../../src/log/index.js';
import { signalProcess } from '../../../src/hcs/emulator/signal-process.js';

describe('emulator: signalProcess', () => {
  it('signals a live process, ignores one that already exited (ESRCH) and logs any other failure', async () => {
    const entries: LogEntry[] = [];
    const log = createLogger({ emit: (e) => entries.push(e) });
    const child = spawn('sleep', ['60'], { stdio: 'ignore' });
    const exited = once(child, 'exit');
    signalProcess(child.pid!, 'SIGKILL', log);
    const [, signal] = await exited;
    assert.equal(signal, 'SIGKILL');
    signalProcess(child.pid!, 'SIGKILL', log); // gone (reaped): ESRCH, nothing to say
    assert.equal(entries.length, 0);
    signalProcess(child.pid!, 'SIGNOPE' as NodeJS.Signals, log); // not ESRCH: logged, not thrown
    assert.equal(entries.length, 1);
    assert.equal(entries[0]?.level, 'warn');
    assert.equal(entries[0]?.target, child.pid);
  });
});
