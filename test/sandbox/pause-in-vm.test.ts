/**
 * Pause/Resume as the real GCS sees them (lcow-container.ts + vm-command.ts): one ExecuteProcess on the zero
 * container id running `runc pause|resume <id>` with stdout and stderr pipes, its output read to EOF, its
 * exit awaited and its stdio closed; a non-zero exit is runc-v2's "OCI runtime … failed: <runc's words>"
 * (Unknown). Against a fake bridge, to pin the request's exact shape.
 */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { ErrorCode, ShimError } from '../../src/errdefs/index.js';
import type { Container, GuestConnection, ProcessParameters } from '../../src/gcs/index.js';
import { LcowContainer } from '../../src/sandbox/lcow-container.js';
import { silentLogger } from '../fakes/index.js';

function fixture(exitCode: number, stdout: string, stderr: string) {
  const sent: ProcessParameters[] = [];
  let closed = 0;
  const gc = {
    createProcess: async (params: ProcessParameters) => {
      sent.push(params);
      const out = new PassThrough();
      const err = new PassThrough();
      // The output arrives in pieces and ends before the exit is reported, as the GCS's close handshake orders it.
      setImmediate(() => {
        out.end(stdout);
        err.write(stderr.slice(0, 3));
        err.end(stderr.slice(3));
      });
      return { pid: 7, stdout: out, stderr: err, wait: () => new Promise<number>((r) => err.once('end', () => r(exitCode))), close: () => void closed++ };
    },
  } as unknown as GuestConnection;
  const lc = new LcowContainer({ id: 'c1' } as unknown as Container, gc, silentLogger(), async () => undefined);
  return { lc, sent, closed: () => closed };
}

describe('Pause/Resume: runc in the utility VM over the GCS', () => {
  it('pause: ExecuteProcess of `runc pause c1` in the VM with stdout/stderr pipes, closed after the exit', async () => {
    const f = fixture(0, '', '');
    await f.lc.pause();
    assert.deepEqual(f.sent, [{
      CommandArgs: ['runc', 'pause', 'c1'],
      WorkingDirectory: '/',
      Environment: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' },
      CreateStdInPipe: false,
      CreateStdOutPipe: true,
      CreateStdErrPipe: true,
    }]);
    assert.equal(f.closed(), 1);
  });

  it('resume: `runc resume c1`', async () => {
    const f = fixture(0, '', '');
    await f.lc.resume();
    assert.deepEqual(f.sent[0]?.CommandArgs, ['runc', 'resume', 'c1']);
  });

  it('a runc failure is Unknown "OCI runtime pause failed: <its output>", the process still closed', async () => {
    const f = fixture(1, '', 'time="x" level=error msg="container not running"\n');
    await assert.rejects(f.lc.pause(), (err: ShimError) =>
      err instanceof ShimError && err.code === ErrorCode.Unknown && err.message === 'OCI runtime pause failed: time="x" level=error msg="container not running"');
    assert.equal(f.closed(), 1);
  });

  it('a failure without output names the exit status', async () => {
    const f = fixture(127, '', '');
    await assert.rejects(f.lc.resume(), /OCI runtime resume failed: runc exited with status 127/);
  });
});
