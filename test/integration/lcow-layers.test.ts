/**
 * Image layers end to end through the shim's ttrpc (the real binary, the emulator, the guest agent, runc):
 * a Create whose rootfs is one `lcow-layer` mount, as containerd's windows-lcow snapshotter sends it, over
 * two layers made by the tar2ext4 tool from an OCI archive (the upper one whites out a file of the lower
 * one and makes a directory opaque). Checks what the container sees, that its write lands in the scratch
 * VHDX and in no layer.vhd, that VPMem spills to SCSI, that nothing stays attached or mounted after
 * delete (also after a SIGKILLed shim), that a pod's containers share the layers' VPMem devices, and that
 * malformed mounts are InvalidArgument.
 * Binary: env LCOW_SHIM_BIN, else dist/bin/containerd-shim-lcow-v1.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ErrorCode, ShimError } from '../../src/errdefs/index.js';
import { containerd } from '../../src/proto/index.js';
import { ociImageToLcowLayers } from '../../src/tar2ext4/index.js';
import { TtrpcClient } from '../../src/ttrpc/index.js';
import { readVhdx } from '../../src/vhd/index.js';
import { buildBusyboxRootfs, ociSpec } from '../guest/support/fixtures.js';
import { buildOciArchiveLayers } from './oci-image.js';
import { platformDial } from '../fakes/platform-dial.js';
import { isLive as alive } from '../fixtures/procfs.js';
import { until } from '../fixtures/wait.js';

const BIN = resolve(process.env.LCOW_SHIM_BIN ?? 'dist/bin/containerd-shim-lcow-v1');
const task = containerd.task.v2;
const SERVICE = 'containerd.task.v2.Task';
const isRoot = process.getuid?.() === 0;

const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

function runBin(args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((res, rej) => {
    const child = spawn(BIN, args, { cwd, env: { ...process.env, ...env, TTRPC_ADDRESS: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.once('error', rej);
    child.once('close', (code) => res({ code, stdout: Buffer.concat(out), stderr: err }));
  });
}

/** Loop devices whose backing file is below `dir`. */
function loopsUnder(dir: string): string[] {
  const out = execFileSync('losetup', ['--list', '--noheadings', '--output', 'NAME,BACK-FILE'], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.includes(dir));
}

function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(dir));
}

describe('lcow-layer rootfs through the shim (real binary, emulator, runc)', { skip: (!existsSync(BIN) && `no binary at ${BIN}`) || (!isRoot && 'needs root'), timeout: 300_000 }, () => {
  let tmp: string;
  let env: NodeJS.ProcessEnv;
  let vmRoot: string;
  let layerFolders: string[];
  let checksums: Map<string, string>;
  const daemons: number[] = [];

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'lcow-layers-'));
    vmRoot = join(tmp, 'vm');
    env = { LCOW_EMULATOR_ROOT: vmRoot, LCOW_SHIM_SOCKET_DIR: join(tmp, 's') };
    await mkdir(join(tmp, 's'));
    const lower = buildBusyboxRootfs(join(tmp, 'src-lower'));
    await writeFile(join(lower, 'etc', 'lower.txt'), 'lower\n');
    await writeFile(join(lower, 'etc', 'keep'), 'keep\n');
    execFileSync('ln', [join(lower, 'etc', 'keep'), join(lower, 'etc', 'keep-hl')]);
    await mkdir(join(lower, 'd', 'sub'), { recursive: true });
    await writeFile(join(lower, 'd', 'sub', 'x'), 'x\n');
    const upper = join(tmp, 'src-upper');
    await mkdir(join(upper, 'etc'), { recursive: true });
    await mkdir(join(upper, 'd'), { recursive: true });
    await writeFile(join(upper, 'etc', '.wh.lower.txt'), '');
    await writeFile(join(upper, 'd', '.wh..wh..opq'), '');
    await writeFile(join(upper, 'd', 'y'), 'y\n');
    await writeFile(join(upper, 'upper.txt'), 'up\n');
    const archive = buildOciArchiveLayers([lower, upper], tmp, 'test/layers:latest');
    await mkdir(join(tmp, 'layers'));
    layerFolders = (await ociImageToLcowLayers(archive, join(tmp, 'layers'))).layerFolders;
    assert.equal(layerFolders.length, 2);
    checksums = new Map(layerFolders.map((f) => [f, sha256(join(f, 'layer.vhd'))]));
  });

  after(async () => {
    for (const pid of daemons) if (alive(pid)) process.kill(pid, 'SIGKILL');
    if (tmp) {
      for (const l of loopsUnder(tmp)) execFileSync('losetup', ['-d', l.split(' ')[0]!]);
      await rm(tmp, { recursive: true, force: true });
    }
  });

  async function scratchFolder(name: string): Promise<string> {
    const folder = join(tmp, 'scratch', name);
    await mkdir(folder, { recursive: true });
    const r = await runBin(['create-scratch', '--destpath', join(folder, 'sandbox.vhdx'), '--sizeGB', '1'], tmp, env);
    assert.equal(r.code, 0, r.stderr);
    return folder;
  }

  async function startShim(id: string, args: string[], annotations: Record<string, string> = {}): Promise<{ client: TtrpcClient; pid: number; bundle: string }> {
    const bundle = join(tmp, 'bundles', id);
    await mkdir(bundle, { recursive: true });
    const spec = { ...ociSpec(id, args), root: { path: 'rootfs' }, annotations };
    await writeFile(join(bundle, 'config.json'), JSON.stringify(spec));
    const r = await runBin(['-namespace', 'ns1', '-address', '/run/x.sock', '-publish-binary', '/bin/true', '-id', id, 'start'], bundle, env);
    assert.equal(r.code, 0, r.stderr);
    const pid = Number.parseInt(await readFile(join(bundle, 'shim.pid'), 'utf8'), 10);
    daemons.push(pid);
    const client = await TtrpcClient.connect(r.stdout.toString(), { dial: platformDial });
    return { client, pid, bundle };
  }

  const call = async <T>(client: TtrpcClient, method: string, req: Uint8Array, decode: (b: Uint8Array) => T): Promise<T> =>
    decode(await client.call(SERVICE, method, req, { timeoutMs: 120_000 }));

  const lcowMount = (scratch: string, parents: string[] | string): containerd.types.IMount => ({
    type: 'lcow-layer', source: scratch, target: '', options: ['rw', `parentLayerPaths=${typeof parents === 'string' ? parents : JSON.stringify(parents)}`],
  });

  async function shutdown(client: TtrpcClient, id: string, pid: number): Promise<void> {
    await client.call(SERVICE, 'Shutdown', task.ShutdownRequest.encode({ id }).finish(), { timeoutMs: 10_000 }).catch(() => undefined);
    await client.close();
    await until('the shim daemon exits', () => !alive(pid), 30_000);
  }

  it('runs the image: whiteout and opaque dir applied, upper file visible, the write lands in the scratch, layers unchanged, nothing left', async () => {
    const id = 'img1';
    const scratch = await scratchFolder(id);
    const check = [
      'test ! -e /etc/lower.txt', 'test "$(cat /upper.txt)" = up', 'test "$(cat /etc/keep-hl)" = keep', 'test ! -e /d/sub',
      'test "$(cat /d/y)" = y', 'echo hello-scratch > /written.txt', 'rm /etc/keep',
    ].join(' && ');
    const { client, pid, bundle } = await startShim(id, ['/bin/sh', '-c', check]);
    await call(client, 'Create', task.CreateTaskRequest.encode({ id, bundle, rootfs: [lcowMount(scratch, layerFolders)] }).finish(), (b) => task.CreateTaskResponse.decode(b));
    await call(client, 'Start', task.StartRequest.encode({ id }).finish(), (b) => task.StartResponse.decode(b));
    const waited = await call(client, 'Wait', task.WaitRequest.encode({ id }).finish(), (b) => task.WaitResponse.decode(b));
    assert.equal(waited.exit_status, 0, 'every check inside the container passed');
    await call(client, 'Delete', task.DeleteRequest.encode({ id }).finish(), (b) => task.DeleteResponse.decode(b));
    await shutdown(client, id, pid);

    for (const [folder, sum] of checksums) assert.equal(sha256(join(folder, 'layer.vhd')), sum, `${folder}/layer.vhd is unchanged`);
    assert.deepEqual(loopsUnder(tmp), [], 'no loop device is left on a layer or the scratch');
    assert.deepEqual(mountsUnder(tmp), [], 'nothing is left mounted');
    assert.deepEqual(await readdir(vmRoot).catch(() => []), [], 'the VM dir is gone');

    // The write is in the scratch disk's overlay upper dir (and the deleted lower file is a whiteout there).
    const vhdx = join(scratch, 'sandbox.vhdx');
    const g = await readVhdx(vhdx);
    const dev = execFileSync('losetup', ['--find', '--show', '--read-only', '--offset', String(g.payloadOffset), '--sizelimit', String(g.virtualSize), vhdx], { encoding: 'utf8' }).trim();
    try {
      const upperDir = `/scratch/${id}/upper`;
      assert.equal(execFileSync('debugfs', ['-R', `cat ${upperDir}/written.txt`, dev], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }), 'hello-scratch\n');
      assert.match(execFileSync('debugfs', ['-R', `stat ${upperDir}/etc/keep`, dev], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }), /Type: character special/);
    } finally {
      execFileSync('losetup', ['-d', dev]);
    }
  });

  it('spills to SCSI when VPMem is full; a SIGKILLed shim leaves nothing attached or mounted once delete ran', async () => {
    const id = 'img2';
    const scratch = await scratchFolder(id);
    const { client, pid, bundle } = await startShim(id, ['/bin/sleep', '1000'], { 'io.microsoft.virtualmachine.devices.virtualpmem.maximumcount': '1' });
    await call(client, 'Create', task.CreateTaskRequest.encode({ id, bundle, rootfs: [lcowMount(scratch, layerFolders)] }).finish(), (b) => task.CreateTaskResponse.decode(b));
    await call(client, 'Start', task.StartRequest.encode({ id }).finish(), (b) => task.StartResponse.decode(b));
    const [vmDir] = await readdir(vmRoot);
    assert.ok(vmDir);
    const vpmem = (await readdir(join(vmRoot, vmDir, 'vpmem'))).filter((n) => !n.endsWith('.json')).sort();
    const scsi = (await readdir(join(vmRoot, vmDir, 'scsi'))).filter((n) => !n.endsWith('.json')).sort();
    assert.deepEqual(vpmem, ['0'], 'the top layer is on the only VPMem device');
    assert.deepEqual(scsi, ['0-0', '0-1'], 'the second layer spilled to SCSI, then the scratch');
    assert.equal(loopsUnder(tmp).length, 3, 'two layers and the scratch are attached');

    await client.close();
    process.kill(pid, 'SIGKILL');
    await until('the daemon died', () => !alive(pid), 30_000);
    const r = await runBin(['-namespace', 'ns1', '-address', '/run/x.sock', '-id', id, '-bundle', bundle, 'delete'], bundle, env);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(loopsUnder(tmp), [], 'no loop device is left');
    assert.deepEqual(mountsUnder(tmp), [], 'nothing is left mounted');
    assert.deepEqual(await readdir(vmRoot), [], 'the VM dir is gone');
    for (const [folder, sum] of checksums) assert.equal(sha256(join(folder, 'layer.vhd')), sum);
  });

  it('two containers of one pod share each layer\'s VPMem device; each has its own scratch; the last release detaches', async () => {
    const pod = 'pod1';
    const cri = (type: string): Record<string, string> => ({ 'io.kubernetes.cri.container-type': type, 'io.kubernetes.cri.sandbox-id': pod });
    const { client, pid, bundle } = await startShim(pod, ['/bin/sleep', '1000'], cri('sandbox'));
    const podScratch = await scratchFolder(pod);
    await call(client, 'Create', task.CreateTaskRequest.encode({ id: pod, bundle, rootfs: [lcowMount(podScratch, layerFolders)] }).finish(), (b) => task.CreateTaskResponse.decode(b));
    await call(client, 'Start', task.StartRequest.encode({ id: pod }).finish(), (b) => task.StartResponse.decode(b));
    const w = 'w1';
    const wBundle = join(tmp, 'bundles', w);
    await mkdir(wBundle, { recursive: true });
    const resolv = join(tmp, 'resolv.conf');
    await writeFile(resolv, 'nameserver 127.0.0.1\n');
    await writeFile(join(wBundle, 'config.json'), JSON.stringify({ ...ociSpec(w, ['/bin/sh', '-c', 'test "$(cat /upper.txt)" = up && sleep 1000']), hostname: undefined, root: { path: 'rootfs' }, annotations: cri('container'),
      // As CRI does: the pod's resolv.conf bound from the host (a Plan9 share beside the layers).
      mounts: [...(ociSpec(w, []).mounts as unknown[]), { destination: '/etc/resolv.conf', type: 'bind', source: resolv, options: ['rbind', 'ro'] }] }));
    const wScratch = await scratchFolder(w);
    await call(client, 'Create', task.CreateTaskRequest.encode({ id: w, bundle: wBundle, rootfs: [lcowMount(wScratch, layerFolders)] }).finish(), (b) => task.CreateTaskResponse.decode(b));
    await call(client, 'Start', task.StartRequest.encode({ id: w }).finish(), (b) => task.StartResponse.decode(b));
    const [vmDir] = await readdir(vmRoot);
    assert.ok(vmDir);
    const links = async (sub: string): Promise<string[]> => (await readdir(join(vmRoot, vmDir, sub)).catch(() => [])).filter((n) => !n.endsWith('.json')).sort();
    assert.deepEqual(await links('vpmem'), ['0', '1'], 'two layers, one device each, shared by both containers');
    assert.deepEqual(await links('scsi'), ['0-0', '0-1'], 'one scratch per container');

    await call(client, 'Kill', task.KillRequest.encode({ id: w, signal: 9 }).finish(), (b) => b);
    await call(client, 'Wait', task.WaitRequest.encode({ id: w }).finish(), (b) => task.WaitResponse.decode(b));
    await call(client, 'Delete', task.DeleteRequest.encode({ id: w }).finish(), (b) => task.DeleteResponse.decode(b));
    assert.deepEqual(await links('vpmem'), ['0', '1'], 'the pod still uses the layers');
    assert.deepEqual(await links('scsi'), ['0-0'], 'the workload\'s scratch is detached');
    assert.equal(loopsUnder(join(tmp, 'scratch', w)).length, 0);

    await call(client, 'Kill', task.KillRequest.encode({ id: pod, signal: 9 }).finish(), (b) => b);
    await call(client, 'Wait', task.WaitRequest.encode({ id: pod }).finish(), (b) => task.WaitResponse.decode(b));
    await call(client, 'Delete', task.DeleteRequest.encode({ id: pod }).finish(), (b) => task.DeleteResponse.decode(b));
    await shutdown(client, pod, pid);
    assert.deepEqual(loopsUnder(tmp), []);
    assert.deepEqual(mountsUnder(tmp), []);
    assert.deepEqual(await readdir(vmRoot), []);
    for (const [folder, sum] of checksums) assert.equal(sha256(join(folder, 'layer.vhd')), sum);
  });

  it('malformed lcow-layer mounts are InvalidArgument before any VM is created', async () => {
    const id = 'bad1';
    const scratch = await scratchFolder(id);
    const noVhd = join(tmp, 'empty-layer');
    await mkdir(noVhd, { recursive: true });
    const { client, pid, bundle } = await startShim(id, ['/bin/true']);
    const cases: Array<[string, containerd.types.IMount[], RegExp]> = [
      ['missing layer.vhd', [lcowMount(scratch, [noVhd])], /layer .*layer\.vhd does not exist/],
      ['bad JSON', [lcowMount(scratch, '["/a",')], /not valid JSON/],
      ['relative layer path', [lcowMount(scratch, ['layers/x'])], /not absolute/],
      ['relative scratch', [lcowMount('scratch/x', layerFolders)], /not absolute/],
      ['missing sandbox.vhdx', [lcowMount(noVhd, layerFolders)], /sandbox\.vhdx does not exist/],
      ['two lcow mounts', [lcowMount(scratch, layerFolders), lcowMount(scratch, layerFolders)], /single/],
    ];
    for (const [what, rootfs, message] of cases) {
      await assert.rejects(client.call(SERVICE, 'Create', task.CreateTaskRequest.encode({ id, bundle, rootfs }).finish(), { timeoutMs: 30_000 }),
        (err: unknown) => err instanceof ShimError && err.code === ErrorCode.InvalidArgument && message.test(err.message), what);
    }
    assert.deepEqual(await readdir(vmRoot).catch(() => []), [], 'no VM was created');
    await shutdown(client, id, pid);
  });
});
