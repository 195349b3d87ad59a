// Build step: the Linux HCS emulator's boot files, <outDir>/bin/LinuxBootFiles/{kernel,initrd.img}.
// They stand where a real LCOW kernel and initrd would (the shim's default boot-files folder), so the
// document CreateLCOW builds points at files that exist. They are not a kernel or an initrd: `kernel` is a
// text marker, `initrd.img` a JSON manifest naming the guest agent relative to this folder
// (src/hcs/emulator/boot-files.ts reads it). No `vmlinux` is made, so the default kernel stays `kernel`.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const EMULATOR_BOOT_FILES_FORMAT = 'containerd-shim-lcow-v1/emulator-boot-files@1';

export default async function emulatorBootFiles(outDir, _rootDir) {
  const dir = join(outDir, 'bin', 'LinuxBootFiles');
  await mkdir(dir, { recursive: true });
  await writeFile(
    join(dir, 'kernel'),
    [
      `${EMULATOR_BOOT_FILES_FORMAT} kernel`,
      'This is not a Linux kernel. The containerd-shim-lcow-v1 HCS emulator (Linux) checks that the',
      'document names this file, then boots the guest agent named in initrd.img as a host process.',
      '',
    ].join('\n'),
  );
  const manifest = {
    format: EMULATOR_BOOT_FILES_FORMAT,
    emulator: 'containerd-shim-lcow-v1 HCS emulator',
    guestEntry: '../../src/guest/main.js',
    note: 'Not an initrd: a manifest for the emulated utility VM. guestEntry is relative to this folder.',
  };
  await writeFile(join(dir, 'initrd.img'), JSON.stringify(manifest, null, 2) + '\n');
}
