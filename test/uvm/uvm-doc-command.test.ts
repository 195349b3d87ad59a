import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, describe, it } from 'node:test';
import { parseOptionsJson, PreferredRootFSType, uvmDocCommand } from '../../src/uvm/index.js';

const dir = mkdtempSync(join(tmpdir(), 'uvm-doc-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function optionsFile(name: string, content: string): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

async function run(argv: string[], deps = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (c: Buffer) => (stdout += c.toString()));
  err.on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await uvmDocCommand(argv, { stdout: out, stderr: err }, deps);
  return { code, stdout, stderr };
}

describe('uvm-doc dry run', () => {
  it('prints one compact document in Windows flavour, with normalisation and boot-file warnings', async () => {
    const file = optionsFile(
      'a.json',
      JSON.stringify({ MemorySizeInMB: 4095, ConsolePipe: '\\\\.\\pipe\\vmpipe', PreferredRootFSType: 'VHD', RootFSFile: 'rootfs.vhd' }),
    );
    const r = await run(['uvm-doc', '--options', file, '--boot-files-path', 'C:\\LCOW', '--os-build', '20348', '--host-processors', '4']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.split('\n').length, 2, 'one line plus the newline');
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.VirtualMachine.ComputeTopology.Memory.SizeInMB, 4096);
    assert.equal(doc.VirtualMachine.Chipset.LinuxKernelDirect.KernelFilePath, 'C:\\LCOW\\kernel');
    assert.deepEqual(doc.VirtualMachine.Devices.VirtualPMem.Devices['0'], { HostPath: 'C:\\LCOW\\rootfs.vhd', ReadOnly: true, ImageFormat: 'Vhd1' });
    assert.deepEqual(doc.VirtualMachine.Devices.ComPorts, { '0': { NamedPipe: '\\\\.\\pipe\\vmpipe' } });
    assert.match(r.stderr, /warning: Changing user requested MemorySizeInMB to align to 2MB \{"requested":4095,"assigned":4096\}/);
    assert.match(r.stderr, /warning: dry run: boot files are not checked, kernel 'C:\\LCOW\\kernel' and root filesystem 'C:\\LCOW\\rootfs.vhd' need not exist/);
  });

  it('accepts Go-style single-dash flags and --flag=value; applies --log-level and the UEFI branch on old builds', async () => {
    const r = await run(['-os-build=17763', '-boot-files-path', 'C:\\LCOW', '-log-level', 'debug']);
    assert.equal(r.code, 0, r.stderr);
    const boot = JSON.parse(r.stdout).VirtualMachine.Chipset.Uefi.BootThis;
    assert.equal(boot.VmbFsRootPath, 'C:\\LCOW');
    assert.match(boot.OptionalData, /-loglevel debug$/);
  });

  it('clamps processors to --host-processors', async () => {
    const file = optionsFile('cpu.json', '{"ProcessorCount": 8}');
    const r = await run(['--options', file, '--os-build', '20348', '--host-processors', '3', '--boot-files-path', 'C:\\B']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).VirtualMachine.ComputeTopology.Processor.Count, 3);
    assert.match(r.stderr, /CPUCount/);
  });

  it('uses the host-info provider when no --os-build is given', async () => {
    const r = await run(['--boot-files-path', '/srv/boot'], {
      hostInfo: async () => ({ osBuild: 20348, logicalProcessors: 2, pathFlavour: 'posix', arch: 'amd64' }),
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).VirtualMachine.Chipset.LinuxKernelDirect.InitRdPath, '/srv/boot/initrd.img');
  });

  it('rejects an unknown key, naming it', async () => {
    const r = await run(['--options', optionsFile('u.json', '{"MemorySizeInMb": 1}'), '--os-build', '20348']);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /unknown option "MemorySizeInMb"/);
  });

  it('rejects a value of the wrong type, naming the key', async () => {
    const r = await run(['--options', optionsFile('t.json', '{"ProcessorCount": "2"}')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /option "ProcessorCount" must be a non-negative integer, got "2"/);
  });

  it('reports options verifyOptions rejects, unreadable files and bad JSON with exit 1', async () => {
    const bad = await run(['--options', optionsFile('v.json', '{"SCSIControllerCount": 3}'), '--os-build', '20348']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /SCSIControllerCount=3/);
    assert.equal((await run(['--options', join(dir, 'missing.json')])).code, 1);
    const notJson = await run(['--options', optionsFile('j.json', '{')]);
    assert.equal(notJson.code, 1);
    assert.match(notJson.stderr, /not valid JSON/);
  });

  it('usage errors exit 2', async () => {
    assert.equal((await run(['--bogus', 'x'])).code, 2);
    assert.equal((await run(['--options'])).code, 2);
    assert.equal((await run(['--os-build', 'abc'])).code, 2);
    assert.equal((await run(['--log-level', 'loud'])).code, 2);
    assert.equal((await run(['stray'])).code, 2);
    const help = await run(['-h']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^usage: /);
  });
});

describe('parseOptionsJson', () => {
  it('reads every kind and PreferredRootFSType spellings', () => {
    assert.deepEqual(parseOptionsJson('{"KernelDirect":false,"KernelFile":"k","VPMemSizeBytes":8192,"PreferredRootFSType":1}'), {
      KernelDirect: false,
      KernelFile: 'k',
      VPMemSizeBytes: 8192,
      PreferredRootFSType: PreferredRootFSType.VHD,
    });
    assert.equal(parseOptionsJson('{"PreferredRootFSType":"InitRD"}').PreferredRootFSType, PreferredRootFSType.InitRd);
  });

  it('rejects non-objects, OutputHandler, negative and fractional numbers, wrong booleans', () => {
    assert.throws(() => parseOptionsJson('[]'), /must be a JSON object/);
    assert.throws(() => parseOptionsJson('{"OutputHandler":"x"}'), /unknown option "OutputHandler" \(it cannot be set from a file\)/);
    assert.throws(() => parseOptionsJson('{"MemorySizeInMB":-1}'), /"MemorySizeInMB" must be a non-negative integer/);
    assert.throws(() => parseOptionsJson('{"MemorySizeInMB":1.5}'), /"MemorySizeInMB"/);
    assert.throws(() => parseOptionsJson('{"VPCIEnabled":"true"}'), /"VPCIEnabled" must be a boolean/);
    assert.throws(() => parseOptionsJson('{"PreferredRootFSType":"squashfs"}'), /"PreferredRootFSType" must be 0, 1/);
    assert.throws(() => parseOptionsJson('{"ID":7}'), /"ID" must be a string/);
  });
});
