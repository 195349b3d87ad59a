/**
 * Writes a new VHDX ([MS-VHDX]) whose payload blocks are all allocated, in order, right after the BAT: the
 * virtual disk is then one contiguous byte range of the file (`payloadOffset`, `virtualSize`), which the
 * emulator attaches as a loop device. The file is sparse on Linux (ftruncate), so a 20 GB scratch costs
 * only what is written. Layout: identifier · headers · region tables | log 1 MiB at 1 MiB (empty, LogGuid
 * zero) | metadata 1 MiB at 2 MiB | BAT at 3 MiB | payload.
 */
import { openFileHandle } from '../async/index.js';
import { crc32c } from './crc32c.js';
import { guidToBytes, newGuid, ZERO_GUID } from '../guid/index.js';
import {
  BlockState, FP_LEAVE_BLOCKS_ALLOCATED, HEADER_OFFSETS, HEADER_SIZE, META_FILE_PARAMETERS, META_IS_REQUIRED,
  META_IS_VIRTUAL_DISK, META_LOGICAL_SECTOR_SIZE, META_PHYSICAL_SECTOR_SIZE, META_VIRTUAL_DISK_ID,
  META_VIRTUAL_DISK_SIZE, METADATA_TABLE_SIZE, MiB, REGION_BAT, REGION_METADATA, REGION_TABLE_OFFSETS,
  REGION_TABLE_SIZE, batEntries, batEntry, batIndex, chunkRatio,
} from './vhdx-layout.js';

export interface CreateVhdxOptions {
  /** Block size in bytes: a power of two from 1 MiB to 256 MiB. Default 1 MiB (hcsshim's scratch). */
  readonly blockSize?: number;
  readonly logicalSectorSize?: 512 | 4096;
}

export interface VhdxGeometry {
  readonly virtualSize: number;
  readonly payloadOffset: number;
  readonly blockSize: number;
  readonly logicalSectorSize: number;
}

const LOG_OFFSET = 1 * MiB;
const LOG_LENGTH = 1 * MiB;
const METADATA_OFFSET = 2 * MiB;
const METADATA_LENGTH = 1 * MiB;
const BAT_OFFSET = 3 * MiB;

function header(seq: number, fileWrite: string, dataWrite: string): Buffer {
  const b = Buffer.alloc(HEADER_SIZE);
  b.write('head', 0, 'ascii');
  b.writeBigUInt64LE(BigInt(seq), 8);
  guidToBytes(fileWrite).copy(b, 16);
  guidToBytes(dataWrite).copy(b, 32);
  guidToBytes(ZERO_GUID).copy(b, 48);
  b.writeUInt16LE(0, 64); // LogVersion
  b.writeUInt16LE(1, 66); // Version
  b.writeUInt32LE(LOG_LENGTH, 68);
  b.writeBigUInt64LE(BigInt(LOG_OFFSET), 72);
  b.writeUInt32LE(crc32c(b), 4);
  return b;
}

function regionTable(batLength: number): Buffer {
  const b = Buffer.alloc(REGION_TABLE_SIZE);
  b.write('regi', 0, 'ascii');
  b.writeUInt32LE(2, 8);
  const entry = (i: number, guid: string, offset: number, length: number): void => {
    const o = 16 + i * 32;
    guidToBytes(guid).copy(b, o);
    b.writeBigUInt64LE(BigInt(offset), o + 16);
    b.writeUInt32LE(length, o + 24);
    b.writeUInt32LE(1, o + 28); // Required
  };
  entry(0, REGION_METADATA, METADATA_OFFSET, METADATA_LENGTH);
  entry(1, REGION_BAT, BAT_OFFSET, batLength);
  b.writeUInt32LE(crc32c(b), 4);
  return b;
}

function metadata(virtualSize: number, blockSize: number, lss: number): Buffer {
  const b = Buffer.alloc(METADATA_TABLE_SIZE + 4096);
  b.write('metadata', 0, 'ascii');
  const items: Array<[string, Buffer, number]> = [];
  const fp = Buffer.alloc(8);
  fp.writeUInt32LE(blockSize, 0);
  fp.writeUInt32LE(FP_LEAVE_BLOCKS_ALLOCATED, 4);
  items.push([META_FILE_PARAMETERS, fp, META_IS_REQUIRED]);
  const vds = Buffer.alloc(8);
  vds.writeBigUInt64LE(BigInt(virtualSize), 0);
  items.push([META_VIRTUAL_DISK_SIZE, vds, META_IS_VIRTUAL_DISK | META_IS_REQUIRED]);
  items.push([META_VIRTUAL_DISK_ID, guidToBytes(newGuid()), META_IS_VIRTUAL_DISK | META_IS_REQUIRED]);
  const ls = Buffer.alloc(4);
  ls.writeUInt32LE(lss, 0);
  items.push([META_LOGICAL_SECTOR_SIZE, ls, META_IS_VIRTUAL_DISK | META_IS_REQUIRED]);
  const ps = Buffer.alloc(4);
  ps.writeUInt32LE(4096, 0);
  items.push([META_PHYSICAL_SECTOR_SIZE, ps, META_IS_VIRTUAL_DISK | META_IS_REQUIRED]);
  b.writeUInt16LE(items.length, 10);
  let dataOffset = METADATA_TABLE_SIZE;
  items.forEach(([guid, data, flags], i) => {
    const o = 32 + i * 32;
    guidToBytes(guid).copy(b, o);
    b.writeUInt32LE(dataOffset, o + 16);
    b.writeUInt32LE(data.length, o + 20);
    b.writeUInt32LE(flags, o + 24);
    data.copy(b, dataOffset);
    dataOffset += data.length;
  });
  return b;
}

/** Creates `path` (it must not exist) as a fully allocated VHDX of `virtualSize` bytes (a multiple of 1 MiB). */
export async function createVhdx(path: string, virtualSize: number, o: CreateVhdxOptions = {}): Promise<VhdxGeometry> {
  const blockSize = o.blockSize ?? MiB;
  const lss = o.logicalSectorSize ?? 512;
  if (!Number.isSafeInteger(virtualSize) || virtualSize <= 0 || virtualSize % MiB !== 0) {
    throw new RangeError(`VHDX size ${virtualSize} is not a positive multiple of 1 MiB`);
  }
  if (virtualSize > 64 * 2 ** 40) throw new RangeError('VHDX size is over 64 TiB');
  if (blockSize < MiB || blockSize > 256 * MiB || (blockSize & (blockSize - 1)) !== 0) throw new RangeError(`VHDX block size ${blockSize} is not a power of two in 1..256 MiB`);
  const blocks = Math.ceil(virtualSize / blockSize);
  const ratio = chunkRatio(lss, blockSize);
  const bat = Buffer.alloc(batEntries(blocks, ratio) * 8);
  const batLength = Math.ceil(bat.length / MiB) * MiB;
  const payloadOffset = BAT_OFFSET + batLength;
  for (let i = 0; i < blocks; i++) bat.writeBigUInt64LE(batEntry(BlockState.FullyPresent, payloadOffset + i * blockSize), batIndex(i, ratio) * 8);

  const ident = Buffer.alloc(64 * 1024);
  ident.write('vhdxfile', 0, 'ascii');
  ident.write('containerd-shim-lcow-v1', 8, 'utf16le');
  const fileWrite = newGuid();
  const dataWrite = newGuid();
  const fh = await openFileHandle(path, 'wx', 0o600);
  try {
    await fh.write(ident, 0, ident.length, 0);
    await fh.write(header(1, fileWrite, dataWrite), 0, HEADER_SIZE, HEADER_OFFSETS[0]);
    await fh.write(header(2, fileWrite, dataWrite), 0, HEADER_SIZE, HEADER_OFFSETS[1]);
    const rt = regionTable(batLength);
    await fh.write(rt, 0, rt.length, REGION_TABLE_OFFSETS[0]);
    await fh.write(rt, 0, rt.length, REGION_TABLE_OFFSETS[1]);
    const md = metadata(virtualSize, blockSize, lss);
    await fh.write(md, 0, md.length, METADATA_OFFSET);
    await fh.write(bat, 0, bat.length, BAT_OFFSET);
    await fh.truncate(payloadOffset + blocks * blockSize);
    await fh.sync();
  } finally {
    await fh.close();
  }
  return { virtualSize, payloadOffset, blockSize, logicalSectorSize: lss };
}
