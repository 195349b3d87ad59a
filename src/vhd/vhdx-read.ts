/**
 * Reads a VHDX ([MS-VHDX]) far enough to attach it as one contiguous range of its file: headers and region
 * tables are checked (signature, CRC-32C; the valid header with the higher sequence number is current),
 * the metadata gives block size, virtual size and logical sector size, and the BAT must map every payload
 * block FULLY_PRESENT, in order, back to back. A disk with no block allocated yet (a new dynamic VHDX,
 * as Windows' CreateVirtualDisk makes) is allocated that way when `allocate` is set: the blocks go at the
 * end of the file (sparse) and the BAT is rewritten. Anything else (a log to replay, a parent, a
 * scattered or partial BAT) is a VhdxFormatError naming what is unsupported.
 */
import type { FileHandle } from 'node:fs/promises';
import { openFileHandle } from '../async/index.js';
import { crc32c } from './crc32c.js';
import { guidFromBytes, ZERO_GUID } from '../guid/index.js';
import type { VhdxGeometry } from './vhdx-create.js';
import {
  BlockState, FP_HAS_PARENT, HEADER_OFFSETS, HEADER_SIZE, META_FILE_PARAMETERS, META_IS_REQUIRED,
  META_LOGICAL_SECTOR_SIZE, META_PHYSICAL_SECTOR_SIZE, META_VIRTUAL_DISK_ID, META_VIRTUAL_DISK_SIZE, MiB,
  REGION_BAT, REGION_METADATA, REGION_TABLE_OFFSETS, REGION_TABLE_SIZE, batEntries, batEntry, batIndex,
  chunkRatio, entryOffset, entryState,
} from './vhdx-layout.js';

export class VhdxFormatError extends Error {
  override readonly name = 'VhdxFormatError';
}

async function readAt(fh: FileHandle, offset: number, length: number): Promise<Buffer> {
  const b = Buffer.alloc(length);
  const { bytesRead } = await fh.read(b, 0, length, offset);
  if (bytesRead !== length) throw new VhdxFormatError(`short read of ${length} bytes at ${offset}`);
  return b;
}

function checked(b: Buffer, sig: string): boolean {
  if (b.toString('ascii', 0, sig.length) !== sig) return false;
  const want = b.readUInt32LE(4);
  const c = Buffer.from(b);
  c.writeUInt32LE(0, 4);
  return crc32c(c) === want;
}

const KNOWN_METADATA = new Set([META_FILE_PARAMETERS, META_VIRTUAL_DISK_SIZE, META_VIRTUAL_DISK_ID, META_LOGICAL_SECTOR_SIZE, META_PHYSICAL_SECTOR_SIZE]);

export async function readVhdx(path: string, o: { allocate?: boolean } = {}): Promise<VhdxGeometry> {
  const fh = await openFileHandle(path, o.allocate ? 'r+' : 'r');
  try {
    const fail = (what: string): never => {
      throw new VhdxFormatError(`${path}: ${what}`);
    };
    if ((await readAt(fh, 0, 8)).toString('ascii') !== 'vhdxfile') fail('not a VHDX (no "vhdxfile" identifier)');
    let current: Buffer | undefined;
    for (const off of HEADER_OFFSETS) {
      const h = await readAt(fh, off, HEADER_SIZE);
      if (checked(h, 'head') && (current === undefined || h.readBigUInt64LE(8) > current.readBigUInt64LE(8))) current = h;
    }
    if (current === undefined) return fail('no valid VHDX header');
    if (guidFromBytes(current.subarray(48, 64)) !== ZERO_GUID) fail('the VHDX log must be replayed first (LogGuid is set); not supported');
    if (current.readUInt16LE(66) !== 1) fail(`VHDX version ${current.readUInt16LE(66)} is not 1`);
    let regions: Buffer | undefined;
    for (const off of REGION_TABLE_OFFSETS) {
      const r = await readAt(fh, off, REGION_TABLE_SIZE);
      if (checked(r, 'regi')) {
        regions = r;
        break;
      }
    }
    if (regions === undefined) return fail('no valid VHDX region table');
    const region = new Map<string, { offset: number; length: number }>();
    const count = regions.readUInt32LE(8);
    if (count > 2047) fail(`region table has ${count} entries`);
    for (let i = 0; i < count; i++) {
      const e = 16 + i * 32;
      const guid = guidFromBytes(regions.subarray(e, e + 16));
      const entry = { offset: Number(regions.readBigUInt64LE(e + 16)), length: regions.readUInt32LE(e + 24) };
      if (guid !== REGION_BAT && guid !== REGION_METADATA && (regions.readUInt32LE(e + 28) & 1) !== 0) fail(`unknown required region ${guid}`);
      region.set(guid, entry);
    }
    const md = region.get(REGION_METADATA) ?? fail('no metadata region');
    const batRegion = region.get(REGION_BAT) ?? fail('no BAT region');
    const table = await readAt(fh, md.offset, 64 * 1024);
    if (table.toString('ascii', 0, 8) !== 'metadata') fail('no metadata table');
    const items = new Map<string, Buffer>();
    const entries = table.readUInt16LE(10);
    if (entries > 2047) fail(`metadata table has ${entries} entries`);
    for (let i = 0; i < entries; i++) {
      const e = 32 + i * 32;
      const guid = guidFromBytes(table.subarray(e, e + 16));
      const offset = table.readUInt32LE(e + 16);
      const length = table.readUInt32LE(e + 20);
      if (!KNOWN_METADATA.has(guid)) {
        if (table.readUInt32LE(e + 24) & META_IS_REQUIRED) fail(`unsupported required metadata item ${guid} (a differencing disk?)`);
        continue;
      }
      if (length > 4096 || offset + length > md.length) fail(`metadata item ${guid} out of range`);
      items.set(guid, await readAt(fh, md.offset + offset, length));
    }
    const fp = items.get(META_FILE_PARAMETERS) ?? fail('no file parameters');
    const blockSize = fp.readUInt32LE(0);
    if (fp.readUInt32LE(4) & FP_HAS_PARENT) fail('differencing VHDX (has a parent) is not supported');
    if (blockSize < MiB || blockSize > 256 * MiB || (blockSize & (blockSize - 1)) !== 0) fail(`invalid block size ${blockSize}`);
    const virtualSize = Number((items.get(META_VIRTUAL_DISK_SIZE) ?? fail('no virtual disk size')).readBigUInt64LE(0));
    const lss = (items.get(META_LOGICAL_SECTOR_SIZE) ?? fail('no logical sector size')).readUInt32LE(0);
    if (lss !== 512 && lss !== 4096) fail(`invalid logical sector size ${lss}`);
    if (!Number.isSafeInteger(virtualSize) || virtualSize <= 0 || virtualSize % lss !== 0) fail(`invalid virtual disk size ${virtualSize}`);

    const blocks = Math.ceil(virtualSize / blockSize);
    const ratio = chunkRatio(lss, blockSize);
    const batBytes = batEntries(blocks, ratio) * 8;
    if (batBytes > batRegion.length) fail(`BAT region (${batRegion.length} bytes) is smaller than ${blocks} blocks need`);
    const bat = await readAt(fh, batRegion.offset, batBytes);
    const states = new Set<number>();
    for (let i = 0; i < blocks; i++) states.add(entryState(bat.readBigUInt64LE(batIndex(i, ratio) * 8)));
    const unallocated = [...states].every((s) => s === BlockState.NotPresent || s === BlockState.Zero || s === BlockState.Unmapped || s === BlockState.Undefined);
    if (unallocated) {
      if (!o.allocate) fail('no payload block is allocated (open it with allocate)');
      const size = (await fh.stat()).size;
      const payloadOffset = Math.ceil(size / MiB) * MiB;
      for (let i = 0; i < blocks; i++) bat.writeBigUInt64LE(batEntry(BlockState.FullyPresent, payloadOffset + i * blockSize), batIndex(i, ratio) * 8);
      await fh.truncate(payloadOffset + blocks * blockSize);
      await fh.write(bat, 0, bat.length, batRegion.offset);
      await fh.sync();
      return { virtualSize, payloadOffset, blockSize, logicalSectorSize: lss };
    }
    const first = bat.readBigUInt64LE(0);
    const payloadOffset = entryOffset(first);
    for (let i = 0; i < blocks; i++) {
      const e = bat.readBigUInt64LE(batIndex(i, ratio) * 8);
      if (entryState(e) !== BlockState.FullyPresent) fail(`payload block ${i} is in state ${entryState(e)}: only fully allocated disks are attached`);
      if (entryOffset(e) !== payloadOffset + i * blockSize) fail(`payload block ${i} is not contiguous with block 0: scattered disks are not supported`);
    }
    if ((await fh.stat()).size < payloadOffset + blocks * blockSize) fail('the file is shorter than its payload');
    return { virtualSize, payloadOffset, blockSize, logicalSectorSize: lss };
  } finally {
    await fh.close();
  }
}
