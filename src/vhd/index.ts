/**
 * vhd: the disk image formats LCOW layers and scratch disks use. Fixed VHD (layer.vhd: a raw ext4 image
 * plus a 512-byte footer) and VHDX (sandbox.vhdx: the scratch), written and read by our own code.
 * Below everything but src/guid (the GUIDs in VHDX headers and metadata), src/random (the footer's unique id) and
 * src/async (a FileHandle, without node:fs/promises loaded before one is needed).
 * May import: async, guid, random.
 */
export { VHD_FOOTER_SIZE, VhdFormatError, fixedVhdFooter, readFixedVhd, type FixedVhd } from './vhd-footer.js';
export { createVhdx, type CreateVhdxOptions, type VhdxGeometry } from './vhdx-create.js';
export { VhdxFormatError, readVhdx } from './vhdx-read.js';
export { crc32c } from './crc32c.js';
