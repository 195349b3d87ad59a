/**
 * The fixed VHD footer (Microsoft "Virtual Hard Disk Image Format Specification" 1.0): a fixed VHD is the
 * raw disk followed by this 512-byte big-endian trailer. hcsshim's tar2ext4 writes layer.vhd this way,
 * an ext4 image plus the footer, which is what VPMem (`ImageFormat: "Vhd1"`) and SCSI attach.
 *   0 cookie "conectix" · 8 features 2 · 12 version 0x00010000 · 16 data offset ~0 (fixed) · 24 timestamp
 *   (s since 2000-01-01) · 28 creator app · 32 creator version · 36 creator OS "Wi2k" · 40 original size ·
 *   48 current size · 56 CHS geometry · 60 disk type (2 fixed, 3 dynamic, 4 differencing) · 64 checksum
 *   (one's complement of the byte sum with this field zero) · 68 unique id · 84 saved state · 85 reserved
 */
import { openFileHandle } from '../async/index.js';
import { randomBytes } from '../random/index.js';

export const VHD_FOOTER_SIZE = 512;
const COOKIE = 'conectix';
const DISK_TYPE_FIXED = 2;
const EPOCH_2000 = Date.UTC(2000, 0, 1) / 1000;

function checksum(b: Buffer): number {
  let sum = 0;
  for (let i = 0; i < VHD_FOOTER_SIZE; i++) if (i < 64 || i >= 68) sum += b[i]!;
  return ~sum >>> 0;
}

/** The CHS geometry the specification derives from the size (appendix "CHS calculation"). */
function geometry(size: number): { c: number; h: number; s: number } {
  let total = Math.floor(size / 512);
  if (total > 65535 * 16 * 255) total = 65535 * 16 * 255;
  let s: number;
  let h: number;
  let cth: number;
  if (total >= 65535 * 16 * 63) {
    s = 255;
    h = 16;
    cth = Math.floor(total / s);
  } else {
    s = 17;
    cth = Math.floor(total / s);
    h = Math.max(4, Math.floor((cth + 1023) / 1024));
    if (cth >= h * 1024 || h > 16) {
      s = 31;
      h = 16;
      cth = Math.floor(total / s);
    }
    if (cth >= h * 1024) {
      s = 63;
      h = 16;
      cth = Math.floor(total / s);
    }
  }
  return { c: Math.floor(cth / h), h, s };
}

/** The footer of a fixed VHD whose disk is `size` bytes (a multiple of 512). */
export function fixedVhdFooter(size: number, now = new Date()): Buffer {
  if (!Number.isSafeInteger(size) || size <= 0 || size % 512 !== 0) throw new Error(`VHD disk size ${size} is not a positive multiple of 512`);
  const b = Buffer.alloc(VHD_FOOTER_SIZE);
  b.write(COOKIE, 0, 'ascii');
  b.writeUInt32BE(2, 8);
  b.writeUInt32BE(0x00010000, 12);
  b.writeBigUInt64BE(0xffffffffffffffffn, 16);
  b.writeUInt32BE(Math.max(0, Math.floor(now.getTime() / 1000 - EPOCH_2000)) >>> 0, 24);
  b.write('tsh ', 28, 'ascii');
  b.writeUInt32BE(0x00010000, 32);
  b.write('Wi2k', 36, 'ascii');
  b.writeBigUInt64BE(BigInt(size), 40);
  b.writeBigUInt64BE(BigInt(size), 48);
  const g = geometry(size);
  b.writeUInt16BE(g.c, 56);
  b.writeUInt8(g.h, 58);
  b.writeUInt8(g.s, 59);
  b.writeUInt32BE(DISK_TYPE_FIXED, 60);
  randomBytes(16).copy(b, 68);
  b.writeUInt32BE(checksum(b), 64);
  return b;
}

export class VhdFormatError extends Error {
  override readonly name = 'VhdFormatError';
}

/** What a fixed VHD holds: its disk is bytes [0, diskSize) of the file. */
export interface FixedVhd {
  readonly diskSize: number;
}

/** Reads and checks the footer of `path`: a fixed VHD with a valid checksum and a disk that fits the file. */
export async function readFixedVhd(path: string): Promise<FixedVhd> {
  const fh = await openFileHandle(path, 'r');
  try {
    const size = (await fh.stat()).size;
    if (size < VHD_FOOTER_SIZE + 512) throw new VhdFormatError(`${path}: ${size} bytes is too small for a VHD`);
    const b = Buffer.alloc(VHD_FOOTER_SIZE);
    await fh.read(b, 0, VHD_FOOTER_SIZE, size - VHD_FOOTER_SIZE);
    if (b.toString('ascii', 0, 8) !== COOKIE) throw new VhdFormatError(`${path}: no VHD footer (cookie "conectix" missing)`);
    if (b.readUInt32BE(64) !== checksum(b)) throw new VhdFormatError(`${path}: VHD footer checksum mismatch`);
    const type = b.readUInt32BE(60);
    if (type !== DISK_TYPE_FIXED) throw new VhdFormatError(`${path}: VHD disk type ${type} is not fixed (2)`);
    const diskSize = Number(b.readBigUInt64BE(48));
    if (diskSize <= 0 || diskSize > size - VHD_FOOTER_SIZE) throw new VhdFormatError(`${path}: VHD current size ${diskSize} does not fit the file (${size} bytes)`);
    return { diskSize };
  } finally {
    await fh.close();
  }
}
