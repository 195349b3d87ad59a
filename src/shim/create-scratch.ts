/**
 * `create-scratch --destpath FILE [--sizeGB N]` (runhcs create-scratch): makes a container scratch disk,
 * a VHDX of N GiB (default 20, hcsshim's DefaultScratchSizeGB) with an empty ext4 file system, for the
 * lcow-layer mount's scratch folder (`<folder>/sandbox.vhdx`). The VHDX is written by src/vhd with every
 * block allocated in order (sparse where the file system allows), so the emulator can attach it as a
 * loop device. The file system is made with e2fsprogs' mkfs.ext4 (`-E offset=` into the payload) when
 * it is installed; without it the disk is left unformatted and the guest formats it on first mount
 * (EnsureFilesystem). Flags also take Go's single dash and `=value`.
 */
import { execFile } from 'node:child_process';
import { rm } from '../async/index.js';
import { promisify } from 'node:util';
import { invalidArgument } from '../errdefs/index.js';
import { createVhdx } from '../vhd/index.js';

const run = promisify(execFile);
export const DEFAULT_SCRATCH_SIZE_GB = 20;

export interface CreateScratchIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

function parse(argv: readonly string[]): { dest: string; sizeGB: number } {
  const values: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const m = /^--?(destpath|sizeGB|cache-path)(?:=(.*))?$/.exec(argv[i]!);
    if (!m) throw invalidArgument(`create-scratch: unknown argument ${JSON.stringify(argv[i])} (usage: create-scratch --destpath FILE [--sizeGB N])`);
    const value = m[2] ?? argv[++i];
    if (value === undefined) throw invalidArgument(`create-scratch: --${m[1]} needs a value`);
    values[m[1]!] = value;
  }
  const dest = values['destpath'];
  if (!dest) throw invalidArgument('create-scratch: --destpath is required');
  const sizeText = values['sizeGB'] ?? String(DEFAULT_SCRATCH_SIZE_GB);
  const sizeGB = /^\d+$/.test(sizeText) ? Number(sizeText) : Number.NaN;
  if (!(sizeGB >= 0 && sizeGB <= 65536)) throw invalidArgument(`create-scratch: --sizeGB ${JSON.stringify(sizeText)} is not a whole number of GiB in 0..65536 (0: the default)`);
  return { dest, sizeGB: sizeGB === 0 ? DEFAULT_SCRATCH_SIZE_GB : sizeGB };
}

export async function createScratchCommand(argv: readonly string[], io: CreateScratchIo): Promise<number> {
  const { dest, sizeGB } = parse(argv);
  const size = sizeGB * 1024 * 1024 * 1024;
  const g = await createVhdx(dest, size).catch((err: NodeJS.ErrnoException) => {
    throw err.code === 'EEXIST' ? invalidArgument(`create-scratch: ${dest} already exists`, err) : err;
  });
  try {
    await run('mkfs.ext4', ['-q', '-F', '-E', `offset=${g.payloadOffset},lazy_itable_init=1,lazy_journal_init=1,nodiscard`, dest, `${size / 1024}k`], { timeout: 120_000 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      io.stderr.write('create-scratch: mkfs.ext4 not found; the disk is left unformatted (the guest formats it on first use)\n');
    } else {
      await rm(dest, { force: true });
      throw new Error(`create-scratch: mkfs.ext4 failed: ${((err as { stderr?: string }).stderr ?? (err as Error).message).trim()}`, { cause: err });
    }
  }
  io.stdout.write(`${dest}\n`);
  return 0;
}
