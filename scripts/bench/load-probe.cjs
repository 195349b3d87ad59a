'use strict';
// The README's "load probe": loads a build's `serve` bundle through its code cache and imports what `serve`
// imports up to its first container (the bundle's warm()), then prints its CPU time since this script
// started, whether V8 took the cache, and, after a GC, its RSS and heap. Compare builds in alternating runs
// on one machine. Run it WITHOUT V8 flags (no --expose-gc): any V8 flag changes V8's flag hash and so makes
// V8 reject the build's code cache (made without flags) and Node's own for its built-in modules. The GC is
// enabled (v8.setFlagsFromString) only after the CPU time is taken.
// Usage: node scripts/bench/load-probe.cjs BUILD_DIR
const t0 = process.cpuUsage();
const dir = require('node:path').resolve(process.argv[2] || 'dist');
const { loadCached } = require(`${dir}/bin/code-cache.cjs`);
const { exports: shim, script } = loadCached(`${dir}/bin/containerd-shim-lcow-v1.cjs`);
shim.warm().then(() => {
  const c = process.cpuUsage(t0);
  require('node:v8').setFlagsFromString('--expose-gc');
  const gc = require('node:vm').runInNewContext('gc');
  setTimeout(() => {
    gc();
    const m = process.memoryUsage();
    const mb = (n) => Math.round((n / 1048576) * 100) / 100;
    console.log(JSON.stringify({ cpuMs: (c.user + c.system) / 1000, cacheRejected: script.cachedDataRejected, rssMB: mb(m.rss), heapMB: mb(m.heapUsed) }));
    process.exit(0);
  }, 300);
});
