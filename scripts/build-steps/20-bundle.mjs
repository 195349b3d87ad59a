// Build step: bundle the two Node programs on containerd's critical path into one file each, with esbuild,
// from the compiled tree tsc just wrote:
//   <outDir>/bin/containerd-shim-lcow-v1.mjs  the shim (cmd/containerd-shim-lcow-v1.js and all it imports,
//                                             npm packages included; koffi stays external: it is native),
//                                             code-split: each dynamic import() (start/delete's manager, the
//                                             serve daemon, the HCS backends) is a chunk in <outDir>/bin/chunks/
//   <outDir>/bin/lcow-guest.cjs               the emulated VM's guest agent (src/guest/main.js), CommonJS
// then points the binary's wrapper at the shim bundle and the emulator's boot-files manifest at the guest
// bundle. Why: every container costs several Node process starts (`start`, the `serve` daemon, the guest
// agent, `delete`), and resolving, reading and compiling hundreds of small modules was most of each one.
// Code splitting keeps dynamic imports lazy for real: a process reads and compiles only the chunks its
// action imports (one big file cost `delete` ~15 ms of compiling code it never ran), and an external ESM
// import (koffi) sits in the chunk that needs it instead of being hoisted into every start.
// Set LCOW_NO_BUNDLE=1 to keep the unbundled layout (for debugging).
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * protobufjs/minimal tries `require("long")` when it loads, and src/proto then turns Long off (64-bit
 * fields are numbers): bundling long.js only cost reading and compiling it. Resolved to `null` here,
 * which protobufjs reads as "no Long" (its own fallback when the package is missing).
 */
export const noLong = {
  name: 'no-long',
  setup(b) {
    b.onResolve({ filter: /^long$/ }, () => ({ path: 'long', namespace: 'no-long' }));
    b.onLoad({ filter: /.*/, namespace: 'no-long' }, () => ({ contents: 'module.exports = null;', loader: 'js' }));
  },
};

// CJS packages inside an ESM bundle call require() for node builtins: give them a real one.
const BANNER = "import { createRequire as __lcowCreateRequire } from 'node:module'; const require = __lcowCreateRequire(import.meta.url);";

export default async function bundle(outDir, _rootDir) {
  if (process.env.LCOW_NO_BUNDLE === '1') return;
  const { build } = await import('esbuild');
  const common = {
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: ['koffi'],
    plugins: [noLong],
    banner: { js: BANNER },
    legalComments: 'none',
    logLevel: 'warning',
    // tsc already checked the code; the compiled tree is the input, so src/gen's JavaScript comes along.
    absWorkingDir: outDir,
  };
  const shimEntry = join(outDir, 'cmd', 'containerd-shim-lcow-v1.js');
  rmSync(join(outDir, 'bin', 'chunks'), { recursive: true, force: true }); // chunk names carry hashes
  rmSync(join(outDir, 'bin', 'lcow-guest.mjs'), { force: true }); // the ESM guest of earlier builds
  const guestEntry = join(outDir, 'src', 'guest', 'main.js');
  await build({
    ...common,
    entryPoints: [shimEntry],
    outdir: join(outDir, 'bin'),
    splitting: true,
    entryNames: '[name]',
    chunkNames: 'chunks/[name]-[hash]',
    outExtension: { '.js': '.mjs' },
  });
  // The guest agent as CommonJS: an ESM entry costs Node's ESM loader (~14 ms of CPU) in every emulated VM.
  await build({ ...common, format: 'cjs', banner: {}, entryPoints: [guestEntry], outfile: join(outDir, 'bin', 'lcow-guest.cjs') });

  // The wrapper containerd execs (written by scripts/build.mjs) now loads the bundle.
  const bin = join(outDir, 'bin', 'containerd-shim-lcow-v1');
  writeFileSync(bin, '#!/usr/bin/env -S node --no-warnings\nimport "./containerd-shim-lcow-v1.mjs";\n');

  // The emulator boots the guest entry the boot-files manifest names (relative to LinuxBootFiles/).
  const manifestPath = join(outDir, 'bin', 'LinuxBootFiles', 'initrd.img');
  if (existsSync(manifestPath)) {
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    manifest.guestEntry = '../lcow-guest.cjs';
    writeFileSync(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
  }
}
