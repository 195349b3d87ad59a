/**
 * One OCI layer tar → one LCOW layer (`layer.vhd`), with the semantics of hcsshim's tar2ext4 -vhd:
 *   - the tar is unpacked as root by GNU tar keeping modes, owners (numeric), hard links, symlinks, device
 *     nodes and xattrs (`--xattrs --xattrs-include=*`); `..` and absolute names are refused by tar
 *   - AUFS whiteouts become overlayfs ones: `.wh.<name>` → a 0/0 character device `<name>`;
 *     `.wh..wh..opq` → the directory gets `trusted.overlay.opaque=y`
 *   - e2fsprogs builds the file system: `mkfs.ext4 -d` (no journal; xattrs, hard links and devices
 *     carried over), the opaque xattrs set with `debugfs ea_set`, then `resize2fs -M` shrinks it
 *   - a fixed VHD footer (src/vhd) is appended
 */
import { execFile } from 'node:child_process';
import { chmod, lstat, mkdir, open, readdir, rm, truncate } from 'node:fs/promises';
import { join, posix, relative } from 'node:path';
import { promisify } from 'node:util';
import { fixedVhdFooter } from '../vhd/index.js';

const run = promisify(execFile);
const TOOL = { timeout: 600_000, maxBuffer: 16 * 1024 * 1024 };
const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';

interface Walk {
  bytes: number;
  entries: number;
  opaque: string[];
}

/** Converts whiteouts below `dir` (in place) and measures what mkfs will need. */
async function convertWhiteouts(root: string, dir: string, w: Walk): Promise<void> {
  for (const name of await readdir(dir)) {
    const path = join(dir, name);
    if (name === OPAQUE) {
      await rm(path, { force: true });
      w.opaque.push('/' + relative(root, dir).split('\\').join('/'));
      continue;
    }
    if (name.startsWith(WHITEOUT)) {
      await rm(path, { recursive: true, force: true });
      const target = join(dir, name.slice(WHITEOUT.length));
      await rm(target, { recursive: true, force: true });
      await run('mknod', ['-m', '0', target, 'c', '0', '0'], TOOL);
      w.entries++;
      continue;
    }
    const st = await lstat(path);
    w.entries++;
    w.bytes += st.isFile() ? st.size : 0;
    if (st.isDirectory()) await convertWhiteouts(root, path, w);
  }
}

async function blockCount(image: string): Promise<{ blocks: number; blockSize: number }> {
  const { stdout } = await run('dumpe2fs', ['-h', image], TOOL);
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(stdout)?.[1] ?? Number.NaN);
  return { blocks: field('Block count'), blockSize: field('Block size') };
}

/** Writes `outVhd` from the layer tar `layerTar` (any compression GNU tar detects), using `workDir`. */
export async function layerTarToVhd(layerTar: string, outVhd: string, workDir: string): Promise<void> {
  const staging = join(workDir, 'rootfs');
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  await chmod(staging, 0o755);
  try {
    await run('tar', ['--xattrs', '--xattrs-include=*', '--numeric-owner', '--same-owner', '--same-permissions', '-xf', layerTar, '-C', staging], TOOL);
    const w: Walk = { bytes: 0, entries: 0, opaque: [] };
    await convertWhiteouts(staging, staging, w);
    // Generous first: data + 4 KiB per entry + room for metadata; resize2fs -M shrinks it afterwards.
    const sizeKiB = Math.ceil((w.bytes * 1.25 + w.entries * 8192 + 64 * 1024 * 1024) / 1024 / 4) * 4;
    await rm(outVhd, { force: true });
    await run('mkfs.ext4', ['-q', '-F', '-b', '4096', '-O', '^has_journal,^resize_inode', '-E', 'root_owner=0:0,nodiscard', '-N', String(w.entries + 64), '-d', staging, outVhd, `${sizeKiB}k`], TOOL);
    if (w.opaque.length > 0) {
      const cmds = w.opaque.map((d) => `ea_set ${JSON.stringify(posix.normalize(d))} trusted.overlay.opaque y`).join('\n');
      await new Promise<void>((resolve, reject) => {
        const p = execFile('debugfs', ['-w', '-f', '-', outVhd], TOOL, (err, _o, stderr) => (err || /error|not found/i.test(stderr) ? reject(new Error(`debugfs: ${stderr || err?.message}`)) : resolve()));
        p.stdin?.end(cmds + '\n');
      });
    }
    await run('e2fsck', ['-f', '-y', outVhd], TOOL).catch((err: { code?: number }) => {
      if ((err.code ?? 8) >= 4) throw err; // 1 and 2: errors corrected
    });
    await run('resize2fs', ['-M', outVhd], TOOL);
    const { blocks, blockSize } = await blockCount(outVhd);
    const size = blocks * blockSize;
    if (!Number.isSafeInteger(size) || size <= 0) throw new Error(`cannot read the block count of ${outVhd}`);
    await truncate(outVhd, size);
    const fh = await open(outVhd, 'a');
    try {
      await fh.write(fixedVhdFooter(size));
    } finally {
      await fh.close();
    }
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
