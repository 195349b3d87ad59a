import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HResult } from '../../src/errdefs/index.js';
import { GuestError } from '../../src/guest/errors.js';
import { runTool } from '../../src/guest/run-tool.js';

/** An E_FAIL GuestError whose message is exactly `message`. */
const eFail = (message: string) => (e: unknown): boolean => {
  assert.ok(e instanceof GuestError, String(e));
  assert.equal(e.hresult, HResult.E_FAIL);
  assert.equal(e.message, message);
  return true;
};

describe('guest: runTool (mount, umount, mkfs.ext4: one way to run them)', () => {
  it('resolves when the tool exits 0; its stdout is not read (a tool that prints a lot still completes)', async () => {
    await runTool('true', []);
    await runTool('sh', ['-c', 'head -c 3000000 /dev/zero']);
  });

  it('a non-zero exit is E_FAIL naming the command line, with the tool\'s stderr', async () => {
    await assert.rejects(runTool('sh', ['-c', 'echo "mount: /x: bad option" >&2; exit 32']), eFail('sh -c echo "mount: /x: bad option" >&2; exit 32: mount: /x: bad option'));
  });

  it('without stderr: the exit status, or the signal that ended the tool (e.g. its timeout\'s SIGTERM)', async () => {
    await assert.rejects(runTool('sh', ['-c', 'exit 3']), eFail('sh -c exit 3: exit status 3'));
    await assert.rejects(runTool('sh', ['-c', 'kill -KILL $$']), eFail('sh -c kill -KILL $$: killed by SIGKILL'));
    await assert.rejects(runTool('sleep', ['30'], 50), eFail('sleep 30: killed by SIGTERM'));
  });

  it('a tool that cannot be started is E_FAIL with the spawn error as its cause', async () => {
    await assert.rejects(runTool('lcow-no-such-tool', ['a']), (e: unknown) => {
      eFail('lcow-no-such-tool a: spawn lcow-no-such-tool ENOENT')(e);
      assert.equal(((e as Error).cause as NodeJS.ErrnoException).code, 'ENOENT');
      return true;
    });
  });

  it('keeps at most ~64 KiB of a chatty tool\'s stderr', async () => {
    const err = await runTool('sh', ['-c', 'head -c 400000 /dev/zero | tr "\\0" x >&2; exit 1']).then(() => undefined, (e: unknown) => e as Error);
    assert.ok(err instanceof GuestError);
    assert.ok(err.message.length < 140_000 && err.message.length > 64 << 10, String(err.message.length));
  });
});
