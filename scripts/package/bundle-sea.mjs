// Bundles the shim into ONE CommonJS file for a Node single-executable application (scripts/package-windows.sh).
// Usage: node scripts/package/bundle-sea.mjs <out.cjs>
// koffi is bundled as JavaScript; its native module is NOT: `@koromix/koffi-win32-x64` resolves to a stub that
// loads koffi.node from the directory of the executable (a SEA's own require() only knows node: builtins,
// so the stub uses module.createRequire). Every other koffi platform package resolves to null.
import { build } from 'esbuild';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const out = resolve(process.argv[2] ?? join(root, '.build-win-package', 'stage', 'containerd-shim-lcow-v1.cjs'));

const KOFFI_NATIVE_STUB = `
const { createRequire } = require('node:module');
const path = require('node:path');
const where = path.join(path.dirname(process.execPath), 'koffi.node');
module.exports = createRequire(process.execPath)(where);
`;

const koffiNative = {
  name: 'koffi-native-beside-exe',
  setup(b) {
    b.onResolve({ filter: /^@koromix\/koffi-/ }, (args) => ({ path: args.path, namespace: 'koffi-native' }));
    b.onLoad({ filter: /.*/, namespace: 'koffi-native' }, (args) => ({
      contents: args.path === '@koromix/koffi-win32-x64' ? KOFFI_NATIVE_STUB : 'module.exports = null;',
      loader: 'js',
    }));
  },
};

await build({
  entryPoints: [join(root, 'scripts', 'package', 'sea-entry.ts')],
  outfile: out,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  mainFields: ['main', 'module'],
  plugins: [koffiNative],
  // import.meta.url only serves the Linux emulator's default paths; give CommonJS an equivalent.
  define: { 'import.meta.url': '__lcowImportMetaUrl' },
  banner: { js: "const __lcowImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  legalComments: 'none',
  logLevel: 'warning',
  absWorkingDir: root,
});
console.log(out);
