/**
 * The emulated VM's `runc` (src/guest/vm-bin.ts): a process the host runs in the VM itself (ExecuteProcess
 * on the zero container id) that names `runc` gets the runc holding this VM's containers (`--root
 * <vmDir>/runc`), as `runc` in a real utility VM is the one Microsoft's GCS runs its containers with. The
 * host's Pause/Resume relies on it (`runc pause|resume <id>` in the VM).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { accessSync, constants, existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NullContainerID, RPCExecuteProcess, RPCWaitForProcess } from '../../src/gcs/protocol/index.js';
import { RawHost, useNegotiatedHost, type Reply } from './support/raw-host.js';

/** ExecuteProcess of argv in the VM itself (no stdio) with `path` as its PATH: the raw reply. */
function execInVm(host: RawHost, argv: string[], path: string): Promise<Reply> {
  const params = { CommandArgs: argv, WorkingDirectory: '/', Environment: { PATH: path } };
  return host.rpc(RPCExecuteProcess, { ContainerId: NullContainerID, Settings: { ProcessParameters: JSON.stringify(params) } });
}

/** Waits for the process a successful ExecuteProcess reply started; its exit code. */
async function exitCodeOf(host: RawHost, started: Reply): Promise<number> {
  assert.equal(started.body['Result'], 0, String(started.body['ErrorMessage']));
  const w = await host.rpc(RPCWaitForProcess, { ContainerId: NullContainerID, ProcessId: started.body['ProcessId'], TimeoutInMs: 0xffffffff });
  return w.body['ExitCode'] as number;
}

describe('guest: runc in the utility VM itself', () => {
  const s = useNegotiatedHost();

  /** Runs argv in the VM (no stdio) with the host's PATH for VM processes; returns its exit code. */
  async function inVm(argv: string[]): Promise<number> {
    return exitCodeOf(s.host, await execInVm(s.host, argv, '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'));
  }

  it('is not written until a process runs in the VM itself (a VM that runs none, as every `ctr run`, never writes it)', () => {
    assert.equal(existsSync(join(s.vmDir, 'bin')), false);
  });

  it('`runc pause <id>` as the command runs the agent\'s runc with this VM\'s root', async () => {
    assert.equal(await inVm(['runc', 'pause', 'c9']), 0);
    assert.equal(s.host.runc.calls().at(-1), `--root ${join(s.vmDir, 'runc')} pause c9`);
  });

  it('a shell in the VM finds the same runc first on its PATH', async () => {
    assert.equal(await inVm(['/bin/sh', '-c', 'runc resume c9']), 0);
    assert.equal(s.host.runc.calls().at(-1), `--root ${join(s.vmDir, 'runc')} resume c9`);
  });

  it('is <vmDir>/bin/runc, executable, once a process ran in the VM', () => {
    accessSync(join(s.vmDir, 'bin', 'runc'), constants.X_OK);
  });
});

describe('guest: the VM\'s runc wrapper cannot be written', () => {
  const s = useNegotiatedHost();

  it('fails that ExecuteProcess with E_FAIL naming the wrapper, and the next one writes it', async () => {
    const { host, vmDir } = s;
    writeFileSync(join(vmDir, 'bin'), 'not a directory');
    const exec = (): Promise<Reply> => execInVm(host, ['runc', 'pause', 'c9'], '/usr/bin:/bin');
    const bad = await exec();
    assert.equal((bad.body['Result'] as number) >>> 0, 0x80004005);
    assert.match(String(bad.body['ErrorMessage']), new RegExp(`writing the utility VM's runc wrapper in ${join(vmDir, 'bin')}: .*(EEXIST|ENOTDIR)`));
    assert.equal(host.runc.calls().length, 0, 'nothing ran');
    rmSync(join(vmDir, 'bin'));
    assert.equal(await exitCodeOf(host, await exec()), 0);
    assert.equal(host.runc.calls().at(-1), `--root ${join(vmDir, 'runc')} pause c9`);
  });
});
