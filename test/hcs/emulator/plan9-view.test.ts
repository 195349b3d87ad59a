/**
 * The emulator honours a Plan9 share's document as HCS's 9p server does: ReadOnly is read-only whatever the
 * guest asks, RestrictFileAccess + AllowedFiles shows only the allowed files (nothing else of the directory,
 * nothing can be created), bad shares fail with an HRESULT, and removal (or closing the VM) leaves no mount.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, readlink, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HResult } from '../../../src/errdefs/index.js';
import { createEmulatorHcsApi } from '../../../src/hcs/emulator/index.js';
import { mountsUnder } from '../../../src/hcs/emulator/teardown.js';
import { HcsError, type HcsApi, type HcsSystem } from '../../../src/hcs/index.js';
import { emulatedVmDir } from '../../../src/transport/index.js';
import { buildBootFiles, lcowDocument, tempDir, testLogger, uniqueId } from './helpers.js';

const NEEDS_ROOT = process.getuid?.() !== 0 ? 'needs root (mounts)' : false;
const SHARES = 'VirtualMachine/Devices/Plan9/Shares';
const hcs = (hresult: number, text?: RegExp) => (e: unknown): boolean =>
  e instanceof HcsError && e.hresult === hresult && e.operation === 'HcsModifyComputeSystem' && (text === undefined || text.test(e.message));
const errno = (code: string) => (e: unknown): boolean => (e as NodeJS.ErrnoException).code === code;

describe('emulator: Plan9 share flags', { skip: NEEDS_ROOT }, () => {
  let root: string;
  let api: HcsApi;
  let sys: HcsSystem;
  let vmDir: string;
  let dir: string;
  const add = (Name: string, Settings: Record<string, unknown>) => sys.modify({ ResourcePath: SHARES, RequestType: 'Add', Settings: { Name, AccessName: Name, Port: 564, ...Settings } } as never);
  const remove = (Name: string) => sys.modify({ ResourcePath: SHARES, RequestType: 'Remove', Settings: { Name, AccessName: Name, Port: 564 } } as never);

  before(async () => {
    root = await tempDir('lcow-emu-p9-');
    const boot = await buildBootFiles(join(root, 'out'));
    api = createEmulatorHcsApi({ root: join(root, 'vm'), log: testLogger() });
    sys = await api.createComputeSystem(uniqueId('p9'), lcowDocument(boot));
    vmDir = emulatedVmDir((await sys.properties()).RuntimeId as string, join(root, 'vm'));
    dir = join(root, 'host-dir');
    await mkdir(join(dir, 'sub'), { recursive: true });
    await writeFile(join(dir, 'one.txt'), 'one\n');
    await writeFile(join(dir, 'secret.txt'), 'secret\n');
  });
  after(async () => {
    await sys.close();
    assert.deepEqual(await mountsUnder(root), [], 'closing the VM leaves no mount');
    await rm(root, { recursive: true, force: true });
  });

  it('a read-write share without restriction is the directory itself', async () => {
    await add('0', { Path: dir, Flags: 4 });
    assert.equal(await readlink(join(vmDir, 'plan9', '0')), dir);
    await remove('0');
    assert.equal(existsSync(join(vmDir, 'plan9', '0')), false);
  });

  it('ReadOnly: every file readable, nothing writable or creatable through the share', async () => {
    await add('1', { Path: dir, Flags: 5 });
    const view = join(vmDir, 'plan9', '1');
    assert.deepEqual(readdirSync(view).sort(), ['one.txt', 'secret.txt', 'sub']);
    assert.equal(readFileSync(join(view, 'one.txt'), 'utf8'), 'one\n');
    await assert.rejects(writeFile(join(view, 'one.txt'), 'changed'), errno('EROFS'));
    await assert.rejects(writeFile(join(view, 'new.txt'), 'x'), errno('EROFS'));
    await remove('1');
    assert.deepEqual(await mountsUnder(join(vmDir, 'plan9')), []);
    assert.equal(readFileSync(join(dir, 'one.txt'), 'utf8'), 'one\n', 'the host file is unchanged');
  });

  it('RestrictFileAccess + AllowedFiles: only the allowed file is there; writable unless ReadOnly; nothing can be added', async () => {
    await add('2', { Path: dir, Flags: 0x84, AllowedFiles: ['one.txt'] });
    const view = join(vmDir, 'plan9', '2');
    assert.deepEqual(readdirSync(view), ['one.txt']);
    assert.equal(existsSync(join(view, 'secret.txt')), false);
    await writeFile(join(view, 'one.txt'), 'written in the VM\n');
    assert.equal(readFileSync(join(dir, 'one.txt'), 'utf8'), 'written in the VM\n', 'the write reaches the host file');
    await assert.rejects(writeFile(join(view, 'other.txt'), 'x'), errno('EROFS'));
    await remove('2');

    await add('3', { Path: dir, Flags: 0x85, AllowedFiles: ['one.txt'] });
    const ro = join(vmDir, 'plan9', '3');
    assert.deepEqual(readdirSync(ro), ['one.txt']);
    assert.equal(readFileSync(join(ro, 'one.txt'), 'utf8'), 'written in the VM\n');
    await assert.rejects(writeFile(join(ro, 'one.txt'), 'x'), errno('EROFS'));
    await remove('3');
    assert.deepEqual(await mountsUnder(join(vmDir, 'plan9')), []);
    assert.deepEqual(readdirSync(join(vmDir, 'plan9')), []);
    assert.deepEqual(readdirSync(dir).sort(), ['one.txt', 'secret.txt', 'sub'], 'nothing of the host directory was removed');
  });

  it('bad shares fail with an HRESULT and leave nothing', async () => {
    await assert.rejects(add('4', { Path: join(dir, 'missing') }), hcs(HResult.ErrFileNotFound, /missing not found/));
    await assert.rejects(add('4', { Path: 'relative/dir' }), hcs(HResult.E_INVALIDARG, /absolute/));
    await assert.rejects(add('4', { Path: join(dir, 'one.txt') }), hcs(HResult.E_INVALIDARG, /not a directory/));
    await assert.rejects(add('4', { Path: dir, Flags: 0x2 }), hcs(HResult.E_INVALIDARG, /Flags 2 has bits outside/));
    await assert.rejects(add('4', { Path: dir, Flags: 4, AllowedFiles: ['one.txt'] }), hcs(HResult.E_INVALIDARG, /needs the RestrictFileAccess/));
    await assert.rejects(add('4', { Path: dir, Flags: 0x80, AllowedFiles: ['../one.txt'] }), hcs(HResult.E_INVALIDARG, /AllowedFiles must be file names/));
    await assert.rejects(add('4', { Path: dir, Flags: 0x80, AllowedFiles: ['gone.txt'] }), hcs(HResult.ErrFileNotFound, /gone\.txt not found/));
    assert.deepEqual(readdirSync(join(vmDir, 'plan9')), []);
    await add('4', { Path: dir, Flags: 0x80, AllowedFiles: ['one.txt'] });
    await assert.rejects(add('4', { Path: dir }), hcs(HResult.ErrAlreadyExists, /already added/));
    await remove('4');
    await assert.rejects(remove('4'), hcs(HResult.ErrElementNotFound, /not added/));
  });

  it('closing the VM with restricted and read-only shares still added unmounts them', async () => {
    await add('5', { Path: dir, Flags: 0x85, AllowedFiles: ['one.txt', 'sub'] });
    await add('6', { Path: dir, Flags: 0x5 });
    assert.deepEqual(readdirSync(join(vmDir, 'plan9', '5')).sort(), ['one.txt', 'sub']);
    assert.ok((await mountsUnder(vmDir)).length >= 4);
  });
});
