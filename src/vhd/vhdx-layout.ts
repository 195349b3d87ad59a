/**
 * VHDX on-disk constants ([MS-VHDX] v20160714): the structures this module reads and writes. Little-endian.
 *   0        file type identifier "vhdxfile" + creator (UTF-16LE), 64 KiB
 *   64 KiB   header 1, 128 KiB header 2: "head", CRC-32C, SequenceNumber, FileWriteGuid, DataWriteGuid,
 *            LogGuid, LogVersion, Version (1), LogLength, LogOffset; the valid one with the higher sequence wins
 *   192 KiB  region table 1, 256 KiB region table 2: "regi", CRC-32C, EntryCount, then 32-byte entries
 *            (Guid, FileOffset, Length, Required)
 *   regions  metadata ("metadata" table + items) and the BAT (u64 entries: state in bits 0-2, file offset
 *            in MiB in bits 20-63; a sector-bitmap entry after every `chunkRatio` payload entries)
 */
export const KiB = 1024;
export const MiB = 1024 * KiB;
export const HEADER_OFFSETS = [64 * KiB, 128 * KiB] as const;
export const REGION_TABLE_OFFSETS = [192 * KiB, 256 * KiB] as const;
export const HEADER_SIZE = 4 * KiB;
export const REGION_TABLE_SIZE = 64 * KiB;
export const METADATA_TABLE_SIZE = 64 * KiB;

export const REGION_BAT = '2dc27766-f623-4200-9d64-115e9bfd4a08';
export const REGION_METADATA = '8b7ca206-4790-4b9a-b8fe-575f050f886e';
export const META_FILE_PARAMETERS = 'caa16737-fa36-4d43-b3b6-33f0aa44e76b';
export const META_VIRTUAL_DISK_SIZE = '2fa54224-cd1b-4876-b211-5dbed83bf4b8';
export const META_VIRTUAL_DISK_ID = 'beca12ab-b2e6-4523-93ef-c309e000c746';
export const META_LOGICAL_SECTOR_SIZE = '8141bf1d-a96f-4709-ba47-f233a8faab5f';
export const META_PHYSICAL_SECTOR_SIZE = 'cda348c7-445d-4471-9cc9-e9885251c556';
export const META_PARENT_LOCATOR = 'a8d35f2d-b30b-454d-abf7-d3d84834ab0c';

/** Metadata entry flags. */
export const META_IS_VIRTUAL_DISK = 0x2;
export const META_IS_REQUIRED = 0x4;
/** File parameters flags. */
export const FP_LEAVE_BLOCKS_ALLOCATED = 0x1;
export const FP_HAS_PARENT = 0x2;

/** BAT payload block states. */
export const BlockState = {
  NotPresent: 0,
  Undefined: 1,
  Zero: 2,
  Unmapped: 3,
  FullyPresent: 6,
  PartiallyPresent: 7,
} as const;

/** Payload entries per sector-bitmap entry: 2^23 sectors per chunk. */
export const chunkRatio = (logicalSectorSize: number, blockSize: number): number => (2 ** 23 * logicalSectorSize) / blockSize;

/** BAT index of payload block `i`. */
export const batIndex = (i: number, ratio: number): number => i + Math.floor(i / ratio);

/** Entries in the BAT of a disk without a parent. */
export const batEntries = (blocks: number, ratio: number): number => blocks + Math.floor((blocks - 1) / ratio);

export const batEntry = (state: number, offset: number): bigint => (BigInt(offset / MiB) << 20n) | BigInt(state);
export const entryState = (e: bigint): number => Number(e & 7n);
export const entryOffset = (e: bigint): number => Number(e >> 20n) * MiB;
