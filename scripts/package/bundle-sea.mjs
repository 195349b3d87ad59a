// Bundles the shim into ONE CommonJS file for a Node single-executable application (scripts/package-windows.sh).
// Usage: node scripts/package/bundle-sea.mjs <out.cjs>
// koffi is bundled as JavaScript from its CommonJS entry; its native module is NOT: koffi.node is loaded from
// beside the executable (koffi-beside-exe.mjs says why and how). test/wine/ runs the exe to prove it.
import { build } from 'esbuild';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { koffiBesideExe } from './koffi-beside-exe.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const out = resolve(process.argv[2] ?? join(root, '.build-win-package', 'stage', 'containerd-shim-lcow-v1.cjs'));

await build({
  entryPoints: [join(root, 'scripts', 'package', 'sea-entry.ts')],
  outfile: out,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  mainFields: ['main', 'module'],
  plugins: [koffiBesideExe(root)],
  // import.meta.url only serves the Linux emulator's default paths; give CommonJS an equivalent.
  define: { 'import.meta.url': '__lcowImportMetaUrl' },
  banner: { js: "const __lcowImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  legalComments: 'none',
  logLevel: 'warning',
  absWorkingDir: root,
});
console.log(out);
