/**
 * The emulated VM's `runc` (src/guest/vm-bin.ts): a process the host runs in the VM itself (ExecuteProcess
 * on the zero container id) that names `runc` gets the runc holding this VM's containers (`--root
 * <vmDir>/runc`), as `runc` in a real utility VM is the one Microsoft's GCS runs its containers with. The
 * host's Pause/Resume relies on it (`runc pause|resume <id>` in the VM).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { accessSync, constants, existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NullContainerID, RPCExecuteProcess, RPCWaitForProcess } from '../../src/gcs/protocol/index.js';
import { cleanupVmDir, tempDir } from './support/fixtures.js';
import { RawHost } from './support/raw-host.js';

describe('guest: runc in the utility VM itself', () => {
  let vmDir = '';
  let host: RawHost;
  before(async () => {
    vmDir = tempDir();
    host = await RawHost.negotiated(vmDir);
  });
  after(() => {
    host.close();
    cleanupVmDir(vmDir);
  });

  /** Runs argv in the VM (no stdio) with the host's PATH for VM processes; returns its exit code. */
  async function inVm(argv: string[]): Promise<number> {
    const params = { CommandArgs: argv, WorkingDirectory: '/', Environment: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' } };
    const r = await host.rpc(RPCExecuteProcess, { ContainerId: NullContainerID, Settings: { ProcessParameters: JSON.stringify(params) } });
    assert.equal(r.body['Result'], 0, String(r.body['ErrorMessage']));
    const w = await host.rpc(RPCWaitForProcess, { ContainerId: NullContainerID, ProcessId: r.body['ProcessId'], TimeoutInMs: 0xffffffff });
    return w.body['ExitCode'] as number;
  }

  it('is not written until a process runs in the VM itself (a VM that runs none, as every `ctr run`, never writes it)', () => {
    assert.equal(existsSync(join(vmDir, 'bin')), false);
  });

  it('`runc pause <id>` as the command runs the agent\'s runc with this VM\'s root', async () => {
    assert.equal(await inVm(['runc', 'pause', 'c9']), 0);
    assert.equal(host.runc.calls().at(-1), `--root ${join(vmDir, 'runc')} pause c9`);
  });

  it('a shell in the VM finds the same runc first on its PATH', async () => {
    assert.equal(await inVm(['/bin/sh', '-c', 'runc resume c9']), 0);
    assert.equal(host.runc.calls().at(-1), `--root ${join(vmDir, 'runc')} resume c9`);
  });

  it('is <vmDir>/bin/runc, executable, once a process ran in the VM', () => {
    accessSync(join(vmDir, 'bin', 'runc'), constants.X_OK);
  });
});

describe('guest: the VM\'s runc wrapper cannot be written', () => {
  let vmDir = '';
  let host: RawHost;
  before(async () => {
    vmDir = tempDir();
    host = await RawHost.negotiated(vmDir);
  });
  after(() => {
    host.close();
    cleanupVmDir(vmDir);
  });

  it('fails that ExecuteProcess with E_FAIL naming the wrapper, and the next one writes it', async () => {
    writeFileSync(join(vmDir, 'bin'), 'not a directory');
    const params = { CommandArgs: ['runc', 'pause', 'c9'], WorkingDirectory: '/', Environment: { PATH: '/usr/bin:/bin' } };
    const exec = (): ReturnType<RawHost['rpc']> =>
      host.rpc(RPCExecuteProcess, { ContainerId: NullContainerID, Settings: { ProcessParameters: JSON.stringify(params) } });
    const bad = await exec();
    assert.equal((bad.body['Result'] as number) >>> 0, 0x80004005);
    assert.match(String(bad.body['ErrorMessage']), new RegExp(`writing the utility VM's runc wrapper in ${join(vmDir, 'bin')}: .*(EEXIST|ENOTDIR)`));
    assert.equal(host.runc.calls().length, 0, 'nothing ran');
    rmSync(join(vmDir, 'bin'));
    const ok = await exec();
    assert.equal(ok.body['Result'], 0, String(ok.body['ErrorMessage']));
    const w = await host.rpc(RPCWaitForProcess, { ContainerId: NullContainerID, ProcessId: ok.body['ProcessId'], TimeoutInMs: 0xffffffff });
    assert.equal(w.body['ExitCode'], 0);
    assert.equal(host.runc.calls().at(-1), `--root ${join(vmDir, 'runc')} pause c9`);
  });
});
