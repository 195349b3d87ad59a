// Build step (after 20-bundle): the shim daemon (`serve`) as one CommonJS bundle with a V8 code cache.
//   <outDir>/bin/containerd-shim-lcow-v1.cjs        the whole shim (same code as the ESM bundle, one file)
//   <outDir>/bin/containerd-shim-lcow-v1.cjs.cache  V8 code for it, made by loading it and everything
//                                                   `serve` loads (warm()), in a node like the runtime's
//   <outDir>/bin/yargs.cjs                          yargs, required by the bundle only for command lines
//                                                   that are not containerd's own (--help, diag, uvm-doc)
//   <outDir>/bin/code-cache.cjs                     the loader (scripts/build-steps/code-cache.cjs)
//   <outDir>/bin/containerd-shim-lcow-v1.cjs.cache.learned   not made here: written at its exit by the
//                                                   first daemon that ran a task to its release
//                                                   (everything it compiled; code-cache.cjs)
//   <outDir>/bin/containerd-shim-lcow-v1            the executable (shim-wrapper.sh, sh and CommonJS in one
//                                                   file): execs Node on itself, which runs the bundle's main
// so every action runs through the cache (a released `delete` does not start Node). Why: the daemon starts on
// containerd's critical path and compiling the logger (winston then), protobufjs and the task code was most of its start
// (loading them took ~50 ms of CPU, ~25 ms from the cache); `start` and `delete` run for every container too,
// and the code-split ESM bundle (still built, used when this step is skipped) cost them Node's ESM loader
// and a compile of each chunk. Set LCOW_NO_CODE_CACHE=1 (or LCOW_NO_BUNDLE=1) to skip.
//
// The daemon holds the bundle's source for its whole life (V8 keeps it for lazy compilation), so the bundle
// is made small (issue 17, daemon RSS): whitespace and syntax minified (identifiers kept, so stack traces
// still name functions), and written already wrapped as the CommonJS function, so the loader compiles the
// string it read instead of a second, concatenated copy that lived until the first full GC.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { noLong } from './20-bundle.mjs';

const SHIM_CJS = 'containerd-shim-lcow-v1.cjs';
/** yargs, bundled on its own: only command lines that are not containerd's own load it (src/shim/flags.ts). */
const YARGS_CJS = 'yargs.cjs';

/** Node's CommonJS wrapper (module.wrap), written around the bundle at build time; code-cache.cjs compiles the file as is. */
const CJS_WRAP = ['(function (exports, require, module, __filename, __dirname) { ', '\n})'];


export default async function codeCache(outDir, _rootDir) {
  const bin = join(outDir, 'bin');
  // `.cache.learned`: what the last build's daemons learned (code-cache.cjs) belongs to that build's bundle.
  for (const f of [SHIM_CJS, `${SHIM_CJS}.cache`, `${SHIM_CJS}.cache.learned`, YARGS_CJS, 'code-cache.cjs', 'package.json']) rmSync(join(bin, f), { force: true });
  if (process.env.LCOW_NO_BUNDLE === '1' || process.env.LCOW_NO_CODE_CACHE === '1') return;
  const { build } = await import('esbuild');
  // main: the shim's entry; hasReleasedTask: whether the daemon's compiled code is worth learning
  // (code-cache.cjs); warm: what `serve` loads up to its first container (the daemon, the HCS factory and
  // the emulator backend), imported but not run.
  const entry = [
    "export { main, hasReleasedTask } from './src/shim/index.js';",
    'export async function warm() {',
    "  await import('./src/shim/serve.js');",
    "  await import('./src/hcs/index.js');",
    "  await import('./src/hcs/emulator/index.js');",
    '}',
  ].join('\n');
  const minify = { legalComments: 'none', charset: 'ascii', minifyWhitespace: true, minifySyntax: true };
  // yargs and its dependencies (~130 KB, a sixth of the bundle) are a file of their own, required by the
  // bundle when flags.ts first runs: every process that loads the bundle keeps its whole source for the
  // process's life (the daemon, which never parses with yargs, included). yargs shares no state with our
  // code, so its own bundle is the same program.
  await build({
    stdin: { contents: "import yargs from 'yargs';\nmodule.exports = yargs;", resolveDir: outDir, sourcefile: 'yargs-entry.js', loader: 'js' },
    outfile: join(bin, YARGS_CJS), bundle: true, platform: 'node', format: 'cjs', target: 'node20', ...minify, logLevel: 'warning', absWorkingDir: outDir,
    // as in the shim's bundle: yargs' ESM shim takes its directory from import.meta.url
    define: { 'import.meta.url': '__lcowImportMetaUrl' },
    banner: { js: "const __lcowImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  });
  const ownYargs = {
    name: 'own-yargs',
    setup(b) {
      b.onResolve({ filter: /^yargs$/ }, () => ({ path: `./${YARGS_CJS}`, external: true }));
    },
  };
  await build({
    stdin: { contents: entry, resolveDir: outDir, sourcefile: 'shim-cjs-entry.js', loader: 'js' },
    outfile: join(bin, SHIM_CJS),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['koffi'],
    // vm.Script has no loader for import(): turn every dynamic import into a require.
    supported: { 'dynamic-import': false },
    // import.meta.url only serves the emulator's default guest path; give CommonJS an equivalent.
    define: { 'import.meta.url': '__lcowImportMetaUrl' },
    banner: { js: `${CJS_WRAP[0]}const __lcowImportMetaUrl = require('node:url').pathToFileURL(__filename).href;` },
    footer: { js: CJS_WRAP[1] },
    legalComments: 'none',
    // ASCII outside comments: code-cache.cjs reads the bundle as latin1 (a one-byte string in V8).
    charset: 'ascii',
    minifyWhitespace: true,
    minifySyntax: true,
    plugins: [noLong, ownYargs],
    logLevel: 'warning',
    absWorkingDir: outDir,
  });
  copyFileSync(join(dirname(fileURLToPath(import.meta.url)), 'code-cache.cjs'), join(bin, 'code-cache.cjs'));
  // The cache is made by a fresh node with the wrapper's flags: V8 rejects a cache made under other flags.
  execFileSync(process.execPath, ['--no-warnings', '-e', `require(${JSON.stringify(join(bin, 'code-cache.cjs'))}).makeCache(${JSON.stringify(join(bin, SHIM_CJS))}).catch((e) => { console.error(e); process.exit(1); })`], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });

  // The executable containerd runs (shim-wrapper.sh): sh answers `delete` after a clean release itself (no
  // Node start: containerd runs `delete` after every disconnect) and execs Node on the same file for every
  // other command line; Node reads it as CommonJS (bin/package.json) and runs the cached bundle. CommonJS, so
  // no action starts Node's ESM loader: an ESM wrapper cost `delete` ~14 ms of CPU before any of our code ran,
  // and the code-split ESM chunks ~25 ms more than the cached bundle.
  if (!existsSync(join(bin, 'containerd-shim-lcow-v1.mjs'))) return;
  writeFileSync(join(bin, 'package.json'), JSON.stringify({ type: 'commonjs' }) + '\n');
  const wrapper = join(bin, 'containerd-shim-lcow-v1');
  copyFileSync(join(dirname(fileURLToPath(import.meta.url)), 'shim-wrapper.sh'), wrapper);
  chmodSync(wrapper, 0o755);
}
