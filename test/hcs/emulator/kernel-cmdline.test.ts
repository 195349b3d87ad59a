import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CmdlineError, parseKernelCmdLine, tokenize } from '../../../src/hcs/emulator/index.js';

describe('kernel command line → guest launch plan', () => {
  it('reads the default LCOW line (hcsshim MakeLCOWDoc)', () => {
    const plan = parseKernelCmdLine(
      ' initcall_blacklist=virtio_vsock_init 8250_core.nr_uarts=0 panic=-1 quiet pci=off nr_cpus=2 brd.rd_nr=0 pmtmr=0 -- -e 1 /bin/vsockexec -e 109 /bin/gcs -v4 -log-format json -loglevel info',
    );
    assert.equal(plan.entropyPort, 1);
    assert.equal(plan.stderrPort, 109);
    assert.equal(plan.stdoutPort, undefined);
    assert.deepEqual(plan.gcsArgs, ['-v4', '-log-format', 'json', '-loglevel', 'info']);
    assert.equal(plan.consoleShell, false);
    assert.ok(plan.kernelParams.includes('nr_cpus=2'));
  });

  it('reads init -w (writable overlay directories) before or after -e, and records it', () => {
    const plan = parseKernelCmdLine('root=/dev/pmem0 ro rootwait init=/init nr_cpus=2 -- -e 1 -w /bin/vsockexec -e 109 /bin/gcs -v4');
    assert.equal(plan.writableOverlayDirs, true);
    assert.equal(plan.entropyPort, 1);
    assert.equal(parseKernelCmdLine('x -- -w -e 1 /bin/gcs').writableOverlayDirs, true);
    assert.equal(parseKernelCmdLine('x -- -e 1 /bin/gcs').writableOverlayDirs, undefined);
    assert.equal(parseKernelCmdLine('x -- sh -c "-e 1 -w /bin/gcs -v4 & exec sh"').writableOverlayDirs, true);
  });

  it('reads vsockexec -o and -e, and a UEFI OptionalData line with initrd=', () => {
    const plan = parseKernelCmdLine('initrd=/initrd.img 8250_core.nr_uarts=0 -- -e 1 /bin/vsockexec -o 109 -e 109 /bin/gcs -v4');
    assert.equal(plan.stdoutPort, 109);
    assert.equal(plan.stderrPort, 109);
    assert.deepEqual(plan.gcsArgs, ['-v4']);
  });

  it('unwraps the seed console form sh -c "-e 1 … & exec sh" (entropy flag inside the quotes)', () => {
    const plan = parseKernelCmdLine(
      ' 8250_core.nr_uarts=1 console=ttyS0,115200 nr_cpus=2 -- sh -c "-e 1 /bin/vsockexec -e 109 /bin/gcs -v4 -log-format json -loglevel debug & exec sh"',
    );
    assert.equal(plan.consoleShell, true);
    assert.equal(plan.entropyPort, 1);
    assert.equal(plan.stderrPort, 109);
    assert.deepEqual(plan.gcsArgs, ['-v4', '-log-format', 'json', '-loglevel', 'debug']);
  });

  it('unwraps the later console form with -e 1 outside the shell', () => {
    const plan = parseKernelCmdLine('x -- -e 1 sh -c "/bin/vsockexec -e 109 /bin/gcs -v4 & exec sh"');
    assert.equal(plan.entropyPort, 1);
    assert.equal(plan.consoleShell, true);
    assert.deepEqual(plan.gcsArgs, ['-v4']);
  });

  it('runs without entropy or vsockexec when the line has neither', () => {
    const plan = parseKernelCmdLine('quiet -- /bin/gcs -v4');
    assert.equal(plan.entropyPort, undefined);
    assert.equal(plan.stderrPort, undefined);
    assert.deepEqual(plan.gcsArgs, ['-v4']);
  });

  it('rejects lines it cannot boot, saying why', () => {
    const cases: [string, RegExp][] = [
      ['quiet panic=-1', /no "--"/],
      ['quiet -- -e 1 /bin/vsockexec -e 109 /bin/bash', /can only boot the guest agent \/bin\/gcs.*\/bin\/bash/],
      ['quiet -- -e x /bin/gcs', /init -e needs a vsock port/],
      ['quiet -- -e 1 /bin/vsockexec -e', /vsockexec -e needs a vsock port/],
      ['quiet -- -e 1', /name no program/],
      ['quiet -- sh -c "/bin/gcs', /unbalanced/],
    ];
    for (const [line, why] of cases) {
      assert.throws(() => parseKernelCmdLine(line), (e) => e instanceof CmdlineError && why.test(e.message), line);
    }
  });

  it('tokenizes with double and single quotes', () => {
    assert.deepEqual(tokenize(` a "b c" 'd "e"'  x"y z"w "h\\"i"`), ['a', 'b c', 'd "e"', 'xy zw', 'h"i']);
  });
});
