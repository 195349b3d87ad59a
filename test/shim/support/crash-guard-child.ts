/**
 * A process for the crash-guard tests: installs the guard with a logger on stdout, then misbehaves.
 * argv[2] 'survive': a throw in a timer and two unhandled rejections, then prints "alive" and exits 0.
 * argv[2] 'storm': throws from many timers; the guard's onFatal prints "fatal: <reason>" and exits 3.
 * Without an argument (e.g. picked up by a test runner) it does nothing.
 */
import { createLogger } from '../../../src/log/index.js';
import { STORM_LIMIT, installCrashGuard } from '../../../src/shim/crash-guard.js';

const mode = process.argv[2];
if (mode === 'survive' || mode === 'storm') misbehave(mode);

function misbehave(kind: string): void {
  const log = createLogger({ level: 'debug', stream: process.stdout });
  installCrashGuard(log, (reason) => {
    process.stdout.write(`fatal: ${reason}\n`);
    setTimeout(() => process.exit(3), 20);
  });

  if (kind === 'survive') {
    setTimeout(() => {
      throw new TypeError('boom in a timer');
    }, 1);
    void Promise.reject(new Error('lost promise'));
    void Promise.reject('a bare string'); // eslint-disable-line prefer-promise-reject-errors
    setTimeout(() => process.stdout.write('alive\n'), 100);
  } else {
    for (let i = 0; i <= STORM_LIMIT + 5; i++) {
      setTimeout(() => {
        throw new Error(`storm ${i}`);
      }, 1);
    }
    setTimeout(() => process.stdout.write('no fatal\n'), 2_000);
  }
}
