/**
 * src/vhd: the fixed VHD footer (byte layout, checksum, CHS geometry, what the reader refuses) and the VHDX
 * writer/reader (round trip, sector-bitmap interleaving in the BAT, header and region-table CRCs, the
 * fallback to the second copy, allocation of an empty dynamic disk, what is refused).
 */
import assert from 'node:assert/strict';
import { mkdtemp, open, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { VhdFormatError, VhdxFormatError, createVhdx, crc32c, fixedVhdFooter, readFixedVhd, readVhdx } from '../../src/vhd/index.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vhd-'));
});
after(() => rm(dir, { recursive: true, force: true }));

const MiB = 1024 * 1024;

describe('CRC-32C', () => {
  it('matches the Castagnoli check value', () => {
    assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
    assert.equal(crc32c(Buffer.alloc(0)), 0);
  });
});

describe('fixed VHD footer', () => {
  it('lays out the big-endian fields with a valid checksum and the specification geometry', () => {
    const f = fixedVhdFooter(MiB, new Date(Date.UTC(2000, 0, 1, 0, 0, 10)));
    assert.equal(f.length, 512);
    assert.equal(f.toString('ascii', 0, 8), 'conectix');
    assert.equal(f.readUInt32BE(8), 2);
    assert.equal(f.readUInt32BE(12), 0x00010000);
    assert.equal(f.readBigUInt64BE(16), 0xffffffffffffffffn);
    assert.equal(f.readUInt32BE(24), 10, 'seconds since 2000-01-01');
    assert.equal(f.toString('ascii', 36, 40), 'Wi2k');
    assert.equal(f.readBigUInt64BE(40), BigInt(MiB));
    assert.equal(f.readBigUInt64BE(48), BigInt(MiB));
    assert.deepEqual([f.readUInt16BE(56), f.readUInt8(58), f.readUInt8(59)], [30, 4, 17], '2048 sectors: 30/4/17');
    assert.equal(f.readUInt32BE(60), 2, 'fixed');
    let sum = 0;
    for (let i = 0; i < 512; i++) if (i < 64 || i >= 68) sum += f[i]!;
    assert.equal(f.readUInt32BE(64), ~sum >>> 0);
    assert.throws(() => fixedVhdFooter(1000), /multiple of 512/);
  });

  it('readFixedVhd returns the disk size and refuses a missing footer, a bad checksum and a dynamic disk', async () => {
    const p = join(dir, 'ok.vhd');
    await writeFile(p, Buffer.concat([Buffer.alloc(4096, 1), fixedVhdFooter(4096)]));
    assert.deepEqual(await readFixedVhd(p), { diskSize: 4096 });
    const raw = join(dir, 'raw.vhd');
    await writeFile(raw, Buffer.alloc(8192));
    await assert.rejects(readFixedVhd(raw), (e: unknown) => e instanceof VhdFormatError && /conectix/.test(e.message));
    const badSum = fixedVhdFooter(4096);
    badSum[100] = 1;
    await writeFile(join(dir, 'sum.vhd'), Buffer.concat([Buffer.alloc(4096), badSum]));
    await assert.rejects(readFixedVhd(join(dir, 'sum.vhd')), /checksum/);
    const dyn = fixedVhdFooter(4096);
    dyn.writeUInt32BE(3, 60);
    dyn.writeUInt32BE(0, 64);
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += dyn[i]!;
    dyn.writeUInt32BE(~sum >>> 0, 64);
    await writeFile(join(dir, 'dyn.vhd'), Buffer.concat([Buffer.alloc(4096), dyn]));
    await assert.rejects(readFixedVhd(join(dir, 'dyn.vhd')), /not fixed/);
    await writeFile(join(dir, 'short.vhd'), Buffer.concat([Buffer.alloc(1024), fixedVhdFooter(4096)]));
    await assert.rejects(readFixedVhd(join(dir, 'short.vhd')), /does not fit/);
  });
});

describe('VHDX', () => {
  it('round-trips a disk large enough for a sector-bitmap entry in the BAT (5 GiB, 1 MiB blocks)', async () => {
    const p = join(dir, 'big.vhdx');
    const g = await createVhdx(p, 5 * 1024 * MiB);
    assert.deepEqual(await readVhdx(p), g);
    assert.equal(g.payloadOffset, 4 * MiB, 'identifier+headers+regions | log | metadata | BAT (one MiB)');
    assert.equal((await stat(p)).size, g.payloadOffset + 5 * 1024 * MiB);
    const fh = await open(p, 'r');
    try {
      const e = Buffer.alloc(8 * 4098);
      await fh.read(e, 0, e.length, 3 * MiB);
      assert.equal(e.readBigUInt64LE(4095 * 8) & 7n, 6n, 'block 4095 fully present');
      assert.equal(e.readBigUInt64LE(4096 * 8), 0n, 'entry 4096 is the (absent) sector bitmap of chunk 0');
      assert.equal(Number(e.readBigUInt64LE(4097 * 8) >> 20n), 4 + 4096, 'block 4096 follows block 4095 in the file');
    } finally {
      await fh.close();
    }
    await assert.rejects(createVhdx(p, MiB), /EEXIST/);
    await assert.rejects(createVhdx(join(dir, 'odd.vhdx'), MiB + 512), /multiple of 1 MiB/);
  });

  it('uses the second header or region table when the first is corrupt; refuses when both are', async () => {
    const p = join(dir, 'crc.vhdx');
    const g = await createVhdx(p, 8 * MiB);
    const fh = await open(p, 'r+');
    try {
      await fh.write(Buffer.from([0xff]), 0, 1, 64 * 1024 + 100); // header 1
      await fh.write(Buffer.from([0xff]), 0, 1, 192 * 1024 + 100); // region table 1
      assert.deepEqual(await readVhdx(p), g);
      await fh.write(Buffer.from([0xff]), 0, 1, 128 * 1024 + 100); // header 2
      await assert.rejects(readVhdx(p), (e: unknown) => e instanceof VhdxFormatError && /no valid VHDX header/.test(e.message));
    } finally {
      await fh.close();
    }
    await writeFile(join(dir, 'none.vhdx'), Buffer.alloc(MiB));
    await assert.rejects(readVhdx(join(dir, 'none.vhdx')), /vhdxfile/);
  });

  it('allocates a disk with no block allocated when asked, and refuses a scattered BAT', async () => {
    const p = join(dir, 'dyn.vhdx');
    const g = await createVhdx(p, 4 * MiB);
    const fh = await open(p, 'r+');
    try {
      await fh.write(Buffer.alloc(8 * 4), 0, 32, 3 * MiB); // every payload entry NOT_PRESENT
      await fh.truncate(g.payloadOffset);
      await assert.rejects(readVhdx(p), /no payload block is allocated/);
      const a = await readVhdx(p, { allocate: true });
      assert.equal(a.payloadOffset, g.payloadOffset);
      assert.deepEqual(await readVhdx(p), a, 'now fully allocated and contiguous');
      const e = Buffer.alloc(8);
      e.writeBigUInt64LE((BigInt(a.payloadOffset / MiB + 3) << 20n) | 6n);
      await fh.write(e, 0, 8, 3 * MiB); // block 0 now points past block 3
      await assert.rejects(readVhdx(p), /not contiguous/);
    } finally {
      await fh.close();
    }
  });
});
