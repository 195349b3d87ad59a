// Build step (Linux): <outDir>/bin/lcow-reclaim.node, the memory-reclaim addon (src/reclaim/lcow-reclaim.c), with
// the system C compiler ($CC, else cc). The `serve` daemon loads it on its first idle reclaim
// (src/reclaim/native-reclaim.ts looks beside the bundle, and in bin/ for the unbundled tree). Without a C compiler
// the build says so and goes on: the daemon then logs that the reclaim is unavailable and V8 returns its heap on
// its own schedule. Not built for Windows (the package ships no such addon).
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** The file name the daemon looks for (RECLAIM_ADDON in src/reclaim/native-reclaim.ts; test/reclaim checks both agree). */
const RECLAIM_ADDON = 'lcow-reclaim.node';

export default async function reclaimAddon(outDir, rootDir) {
  const out = join(outDir, 'bin', RECLAIM_ADDON);
  rmSync(out, { force: true });
  if (process.platform !== 'linux') return;
  const cc = process.env.CC || 'cc';
  const src = join(rootDir, 'src', 'reclaim', 'lcow-reclaim.c');
  mkdirSync(join(outDir, 'bin'), { recursive: true });
  try {
    // Warnings are shown, not fatal: another compiler's new warning must not stop a build of working code.
    execFileSync(cc, ['-O2', '-Wall', '-Wextra', '-shared', '-fPIC', '-o', out, src], { stdio: ['ignore', 'inherit', 'inherit'] });
  } catch (err) {
    if (err.code !== 'ENOENT') throw new Error(`build: ${cc} failed to compile ${src}: ${err.message}`);
    process.stderr.write(`build: no C compiler (${cc}): ${RECLAIM_ADDON} not built; the daemon's idle memory reclaim is off (scripts/setup.sh installs gcc)\n`);
  }
}
