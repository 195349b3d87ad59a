'use strict';
// Copied by scripts/build-steps/30-code-cache.mjs to <outDir>/bin/code-cache.cjs: runs a CommonJS bundle
// through a V8 code cache (`<bundle>.cache`, written at build time by makeCache). Node 20 has no compile
// cache for modules (module.enableCompileCache is Node 22), so the bundle is compiled as a vm.Script with
// cachedData: functions the cache holds are deserialized instead of parsed and compiled. A cache V8 rejects
// (another Node or V8 flags) is ignored and the bundle compiles as usual: only slower.
//
// The build-time cache holds what warm() compiled: the module bodies. Every function a container's life
// then calls (Create, the emulator, the GCS bridge, the stdio relays, the teardown) was compiled lazily in
// every daemon, ~25 ms of CPU per container. So `serve` also uses a learned cache, `<bundle>.cache.learned`:
// a daemon that loaded none and ran a task to its release writes it when it exits, V8's data for everything
// it compiled by then (createCachedData after the run, as Node 22's module compile cache does at exit), and
// the daemons after it load that instead. The file starts with a line naming the bundle it was made for
// (size, mtime, inode): V8 checks only the source's length, so a cache for another bundle of the same length
// would be taken as valid. Written to a temporary name and renamed into place (concurrent daemons each write
// a whole file); where it cannot be written (a read-only install) each daemon keeps using the build-time
// cache. A new Node rejects it (V8's version check, as it rejects the build-time cache): it is removed, and
// nothing is learned until a rebuild makes a build-time cache that Node takes.
const { readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const { basename, dirname, join } = require('node:path');
const vm = require('node:vm');

/**
 * Compiles and evaluates `file` as a CommonJS module; returns its exports, the vm.Script and which cache V8
 * took (`cache`: 'learned', 'build' or 'none'). The file holds the module already wrapped as Node's CommonJS
 * function (30-code-cache.mjs writes it so): the string read is the one V8 compiles and keeps, not a second
 * copy made by module.wrap() (a 1.1 MB bundle kept both until the first full GC). With `opts.learn` (by
 * default: when this process is `serve`, the last word of its command line, the one action that lives
 * through a container's life) the learned cache is used when there is one for this bundle, and one is
 * written at exit when there was not.
 */
function loadCached(file, opts = {}) {
  // The learned cache's first line: the bundle it is for, taken before and after the read (a bundle rebuilt
  // meanwhile teaches nothing).
  const key = (opts.learn ?? process.argv[process.argv.length - 1] === 'serve') ? learnedKey(file) : undefined;
  // latin1, not utf8: the bundle is ASCII outside comments (esbuild's `charset: 'ascii'` escapes every
  // other character), so the source is the same program and V8 keeps it as a one-byte string (a UTF-8
  // read of a file with one non-ASCII comment made a two-byte string twice the size, held for the process).
  const source = readFileSync(file, 'latin1');
  const learn = key !== undefined && key === learnedKey(file);
  if (learn) {
    const learned = readLearned(file, key);
    if (learned !== undefined) {
      const script = new vm.Script(source, { filename: file, cachedData: learned });
      if (!script.cachedDataRejected) return evaluate(file, script, 'learned');
      // Made by another Node (V8 checks its version): removed, so that the daemons after this one do not
      // compile twice; none is learned until the build-time cache is accepted again (a rebuild).
      try {
        unlinkSync(`${file}.cache.learned`);
      } catch {
        // another daemon removed it first
      }
    }
  }
  let cachedData;
  try {
    cachedData = readFileSync(`${file}.cache`);
  } catch {
    cachedData = undefined; // no cache: compile as usual
  }
  const script = new vm.Script(source, { filename: file, cachedData });
  const cache = cachedData === undefined || script.cachedDataRejected ? 'none' : 'build';
  const loaded = evaluate(file, script, cache);
  // Only under the build's Node and flags (a daemon started with other V8 flags would teach a cache the
  // others reject), and only by a daemon that ran a task until it was released (the bundle's
  // hasReleasedTask): one that failed early or served no container would teach none of a container's code.
  if (learn && cache === 'build') learnAtExit(file, key, script, () => loaded.exports.hasReleasedTask?.() === true);
  return loaded;
}

/** Runs the compiled module function; `cache` says which cache V8 took ('learned', 'build' or 'none'). */
function evaluate(file, script, cache) {
  const module = { exports: {}, filename: file };
  script.runInThisContext().call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
  return { exports: module.exports, script, cache };
}

/** The learned cache's first line: the bundle it was made for; undefined when the bundle cannot be read. */
function learnedKey(file) {
  try {
    const st = statSync(file);
    return `lcow-learned-cache ${st.size} ${st.mtimeMs} ${st.ino}\n`;
  } catch {
    return undefined; // the compile says why
  }
}

/** V8's data of the learned cache made for the bundle `key` names; undefined when there is none. */
function readLearned(file, key) {
  let buf;
  try {
    buf = readFileSync(`${file}.cache.learned`);
  } catch {
    return undefined; // none yet
  }
  return buf.length > key.length && buf.toString('latin1', 0, key.length) === key ? buf.subarray(key.length) : undefined;
}

/** At this process's exit, if `worth()`: V8's data for all of `script` compiled by then, as `file`'s learned cache. */
function learnAtExit(file, key, script, worth) {
  process.once('exit', () => {
    if (!worth()) return;
    const target = `${file}.cache.learned`;
    const tmp = `${target}.${process.pid}.tmp`;
    try {
      writeFileSync(tmp, Buffer.concat([Buffer.from(key, 'latin1'), script.createCachedData()]), { mode: 0o644 });
      renameSync(tmp, target);
    } catch {
      // a read-only directory, a full disk: the next daemon uses the build-time cache, as this one did
      try {
        unlinkSync(tmp);
      } catch {
        // nothing was written
      }
      return;
    }
    try {
      removeStaleTemps(target);
    } catch {
      // the directory cannot be listed: what is left stays, as before
    }
  });
}

/**
 * Removes the temporary files of writers of `target` that died while writing (killed during their one write
 * of ~20 ms: rare, but each would stay beside the bundle for good). A file whose pid is alive (another
 * daemon writing now, or a reused pid) is left.
 */
function removeStaleTemps(target) {
  const dir = dirname(target);
  const prefix = `${basename(target)}.`;
  for (const name of readdirSync(dir)) {
    if (!name.startsWith(prefix) || !name.endsWith('.tmp')) continue;
    const pid = Number(name.slice(prefix.length, -'.tmp'.length));
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) continue;
    try {
      process.kill(pid, 0);
      continue; // alive
    } catch (err) {
      if (err.code !== 'ESRCH') continue; // EPERM: alive, another user's
    }
    try {
      unlinkSync(join(dir, name));
    } catch {
      // another daemon removed it first
    }
  }
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
