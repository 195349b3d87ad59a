'use strict';
// Copied by scripts/build-steps/30-code-cache.mjs to <outDir>/bin/code-cache.cjs: runs a CommonJS bundle
// through a V8 code cache (`<bundle>.cache`, written at build time by makeCache). Node 20 has no compile
// cache for modules (module.enableCompileCache is Node 22), so the bundle is compiled as a vm.Script with
// cachedData: functions the cache holds are deserialized instead of parsed and compiled. A cache V8 rejects
// (another Node or V8 flags) is ignored and the bundle compiles as usual: only slower.
const { readFileSync, writeFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const { dirname } = require('node:path');
const vm = require('node:vm');

/**
 * Compiles and evaluates `file` as a CommonJS module; returns its exports and the vm.Script. The file holds
 * the module already wrapped as Node's CommonJS function (30-code-cache.mjs writes it so): the string read
 * is the one V8 compiles and keeps, not a second copy made by module.wrap() (a 1.1 MB bundle kept both until
 * the first full GC).
 */
function loadCached(file) {
  // latin1, not utf8: the bundle is ASCII outside comments (esbuild's `charset: 'ascii'` escapes every
  // other character), so the source is the same program and V8 keeps it as a one-byte string (a UTF-8
  // read of a file with one non-ASCII comment made a two-byte string twice the size, held for the process).
  const source = readFileSync(file, 'latin1');
  let cachedData;
  try {
    cachedData = readFileSync(`${file}.cache`);
  } catch {
    cachedData = undefined; // no cache: compile as usual
  }
  const script = new vm.Script(source, { filename: file, cachedData });
  const module = { exports: {}, filename: file };
  script.runInThisContext().call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
  return { exports: module.exports, script };
}

/** The shim's `main` from the bundle at `file`, run on this process's arguments. */
function runCached(file) {
  const { exports } = loadCached(file);
  exports.main(process.argv.slice(2)).then(
    (code) => {
      if (code >= 0) process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`${String(err && err.stack ? err.stack : err)}\n`);
      process.exitCode = 1;
    },
  );
}

/** Build time: load `file`, run its warm() (loads the modules serve uses), write `<file>.cache`. */
async function makeCache(file) {
  const { exports, script } = loadCached(file);
  await exports.warm();
  writeFileSync(`${file}.cache`, script.createCachedData());
}

module.exports = { loadCached, runCached, makeCache };
