import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ErrorCode, ShimError } from '../../src/errdefs/index.js';
import {
  URANDOM, fillByReads, fillFromDevice, fillFromNodeCrypto, randomBytes, randomFill, randomUUID, uuidV4FromBytes,
} from '../../src/random/index.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const shimError = (code: ErrorCode, message: RegExp) => (err: unknown): boolean => {
  assert.ok(err instanceof ShimError, `a ShimError, not ${String(err)}`);
  assert.equal(err.code, code);
  assert.match(err.message, message);
  return true;
};

describe('random: v4 UUIDs', () => {
  it('sets the version nibble to 4 and the variant bits to 10, keeping the other 122 bits (byte vectors)', () => {
    assert.equal(uuidV4FromBytes(new Uint8Array(16)), '00000000-0000-4000-8000-000000000000');
    assert.equal(uuidV4FromBytes(new Uint8Array(16).fill(0xff)), 'ffffffff-ffff-4fff-bfff-ffffffffffff');
    const bytes = Uint8Array.from([0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe]);
    assert.equal(uuidV4FromBytes(bytes), '01234567-89ab-4def-9032-547698badcfe');
    assert.equal(bytes[6], 0xcd, 'the caller\'s bytes are not changed');
    assert.throws(() => uuidV4FromBytes(new Uint8Array(15)), shimError(ErrorCode.InvalidArgument, /16 bytes, not 15/));
  });

  it('randomUUID: canonical lower-case v4 form, and 2000 of them are all different', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const u = randomUUID();
      assert.match(u, UUID_V4);
      seen.add(u);
    }
    assert.equal(seen.size, 2000);
  });

  it('the 122 random bits are not stuck: over 256 UUIDs every one of those bits is seen as 0 and as 1', () => {
    const ones = new Array<number>(128).fill(0);
    for (let i = 0; i < 256; i++) {
      const b = Buffer.from(randomUUID().replaceAll('-', ''), 'hex');
      for (let bit = 0; bit < 128; bit++) ones[bit]! += (b[bit >> 3]! >> (7 - (bit & 7))) & 1;
    }
    const fixed = new Map([[48, 0], [49, 1], [50, 0], [51, 0], [64, 1], [65, 0]]); // version 0100, variant 10
    for (let bit = 0; bit < 128; bit++) {
      const want = fixed.get(bit);
      if (want !== undefined) assert.equal(ones[bit], want * 256, `bit ${bit} is fixed`);
      else assert.ok(ones[bit]! > 0 && ones[bit]! < 256, `bit ${bit} varies (${ones[bit]} of 256 set)`);
    }
  });
});

describe('random: bytes', () => {
  it('randomBytes gives the length asked for (0, 1, 512, 70000), and two calls differ', () => {
    for (const n of [0, 1, 512, 70_000]) assert.equal(randomBytes(n).length, n);
    assert.notDeepEqual(randomBytes(32), randomBytes(32));
    assert.throws(() => randomBytes(-1), shimError(ErrorCode.InvalidArgument, /-1 is not a non-negative integer/));
    assert.throws(() => randomBytes(1.5), shimError(ErrorCode.InvalidArgument, /1\.5/));
  });

  it('randomFill fills a view in place, whole (a 64 KiB all-zero view comes back with no 4 KiB block left zero)', () => {
    const buf = new Uint8Array(65536);
    assert.equal(randomFill(buf), buf);
    for (let off = 0; off < buf.length; off += 4096) assert.ok(buf.subarray(off, off + 4096).some((b) => b !== 0), `block at ${off}`);
  });

  it('fillByReads retries short reads until the buffer is full, each read asked for the rest', () => {
    const source = Buffer.from('0123456789abcdef');
    let pos = 0;
    const asks: Array<[number, number]> = [];
    const out = new Uint8Array(10);
    fillByReads(out, (into, offset, length) => {
      asks.push([offset, length]);
      const n = Math.min(3, length); // a device that hands out at most 3 bytes a read
      into.set(source.subarray(pos, pos + n), offset);
      pos += n;
      return n;
    }, 'a test reader');
    assert.equal(Buffer.from(out).toString(), '0123456789');
    assert.deepEqual(asks, [[0, 10], [3, 7], [6, 4], [9, 1]]);
  });

  it('fillByReads fails clearly on end of file, a negative or oversized count, and passes a read error on', () => {
    const after = (n: number, then: number) => {
      let calls = 0;
      return (into: Uint8Array, offset: number, length: number): number => (calls++ === 0 ? Math.min(n, length) : then);
    };
    assert.throws(() => fillByReads(new Uint8Array(8), after(5, 0), '/dev/thing'),
      shimError(ErrorCode.Internal, /reading 8 random bytes from \/dev\/thing: a read returned 0 after 5 bytes/));
    assert.throws(() => fillByReads(new Uint8Array(8), after(5, -1), 'x'), shimError(ErrorCode.Internal, /returned -1 after 5/));
    assert.throws(() => fillByReads(new Uint8Array(8), after(5, 4), 'x'), shimError(ErrorCode.Internal, /returned 4 after 5/));
    const boom = new Error('EIO');
    assert.throws(() => fillByReads(new Uint8Array(8), () => { throw boom; }, 'x'), (err) => err === boom);
  });

  it('fillFromDevice reads /dev/urandom and refuses anything but the kernel\'s random devices, naming the path', () => {
    const a = new Uint8Array(64);
    const b = new Uint8Array(64);
    fillFromDevice(a, URANDOM);
    fillFromDevice(b, '/dev/random');
    assert.notDeepEqual(a, b);
    assert.ok(a.some((x) => x !== 0));
    const dir = mkdtempSync(join(tmpdir(), 'random-test.'));
    try {
      const file = join(dir, 'urandom');
      writeFileSync(file, Buffer.alloc(64, 7)); // predictable bytes: must never be taken
      assert.throws(() => fillFromDevice(new Uint8Array(16), file), shimError(ErrorCode.Internal, /urandom is not a character device/));
      assert.throws(() => fillFromDevice(new Uint8Array(16), '/dev/zero'), shimError(ErrorCode.Internal, /\/dev\/zero is character device 1:5, not the kernel's random device/));
      assert.throws(() => fillFromDevice(new Uint8Array(16), join(dir, 'missing')), shimError(ErrorCode.NotFound, /opening .*missing for random bytes: ENOENT/));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    fillFromDevice(new Uint8Array(0), join('/nonexistent', 'x')); // nothing to read: nothing opened
  });

  it('fillFromNodeCrypto (the Windows path) fills whole, beyond Web Crypto\'s 65536-byte limit', () => {
    const buf = new Uint8Array(65536 * 2 + 5);
    fillFromNodeCrypto(buf);
    for (let off = 0; off < buf.length; off += 4096) assert.ok(buf.subarray(off, off + 4096).some((x) => x !== 0), `block at ${off}`);
  });

  it('nodeCrypto on a Node without process.getBuiltinModule (< 20.16) requires node:crypto, also bundled as CommonJS', async () => {
    const { buildSync } = await import('esbuild');
    const out = buildSync({
      stdin: { contents: "export { nodeCrypto } from './dist/src/random/index.js';", resolveDir: process.cwd(), sourcefile: 'probe.js' },
      bundle: true, platform: 'node', format: 'cjs', target: 'node20', write: false, logLevel: 'silent',
    });
    const dir = mkdtempSync(join(tmpdir(), 'random-cjs-'));
    try {
      const bundle = join(dir, 'random.cjs');
      writeFileSync(bundle, out.outputFiles[0]?.text ?? '');
      const probe = `delete process.getBuiltinModule; const c = require(${JSON.stringify(bundle)}).nodeCrypto(); process.stdout.write(c.createHash('sha256').update('abc').digest('hex'))`;
      const digest = execFileSync(process.execPath, ['-e', probe], { encoding: 'utf8' });
      assert.equal(digest, 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'); // FIPS 180-4 "abc"
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('on Linux, a fresh process that makes UUIDs and the VM\'s 512 bytes of entropy loads none of node:crypto', () => {
    const mod = new URL('../../src/random/index.js', import.meta.url).href;
    const script = join(mkdtempSync(join(tmpdir(), 'random-test.')), 'probe.mjs');
    // A file, not `node -e`: Node's eval path loads node:crypto itself.
    writeFileSync(script, `const r = await import(${JSON.stringify(mod)}); r.randomUUID(); r.randomBytes(512);\n` +
      'console.log(JSON.stringify(process.moduleLoadList.filter((m) => /crypto/.test(m))));\n');
    try {
      const env = { ...process.env };
      delete env.NODE_OPTIONS;
      assert.deepEqual(JSON.parse(execFileSync(process.execPath, [script], { encoding: 'utf8', env })), []);
    } finally {
      rmSync(join(script, '..'), { recursive: true, force: true });
    }
  });
});
