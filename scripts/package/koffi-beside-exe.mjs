// The esbuild plugin that makes a bundled koffi load its native module from beside the executable (used by
// bundle-sea.mjs for the shim's .exe, and by the Wine tier's test driver, test/wine/).
//
// koffi is bundled from its CommonJS entry (index.cjs). Its ESM entry loads the native package through its own
// createRequire(import.meta.url), which no bundler plugin sees, so a bundle of it cannot find koffi.node
// ("Cannot find the native Koffi module; did you bundle it correctly?"). The CommonJS entry require()s
// `@koromix/koffi-<platform>-<arch>`: `@koromix/koffi-win32-x64` resolves to a stub that loads koffi.node from
// the directory of process.execPath (a SEA's own require() only knows node: builtins, so the stub uses
// module.createRequire); every other koffi platform package resolves to null.
import { join } from 'node:path';

const KOFFI_NATIVE_STUB = `
const { createRequire } = require('node:module');
const path = require('node:path');
const where = path.join(path.dirname(process.execPath), 'koffi.node');
module.exports = createRequire(process.execPath)(where);
`;

/** @param {string} root the repository root (where node_modules/koffi is) */
export function koffiBesideExe(root) {
  return {
    name: 'koffi-native-beside-exe',
    setup(b) {
      b.onResolve({ filter: /^koffi$/ }, () => ({ path: join(root, 'node_modules', 'koffi', 'index.cjs') }));
      b.onResolve({ filter: /^@koromix\/koffi-/ }, (args) => ({ path: args.path, namespace: 'koffi-native' }));
      b.onLoad({ filter: /.*/, namespace: 'koffi-native' }, (args) => ({
        contents: args.path === '@koromix/koffi-win32-x64' ? KOFFI_NATIVE_STUB : 'module.exports = null;',
        loader: 'js',
      }));
    },
  };
}
