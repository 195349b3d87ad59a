'use strict';
// The README's "load probe": loads a build's `serve` bundle through its code cache and imports what `serve`
// imports up to its first container (the bundle's warm()), then prints its CPU time since this script
// started and, after a GC, its RSS and heap. Compare builds in alternating runs on one machine.
// Usage: node --expose-gc scripts/bench/load-probe.cjs BUILD_DIR
const t0 = process.cpuUsage();
const dir = require('node:path').resolve(process.argv[2] || 'dist');
const { loadCached } = require(`${dir}/bin/code-cache.cjs`);
const shim = loadCached(`${dir}/bin/containerd-shim-lcow-v1.cjs`).exports;
shim.warm().then(() => {
  const c = process.cpuUsage(t0);
  setTimeout(() => {
    if (global.gc) global.gc();
    const m = process.memoryUsage();
    const mb = (n) => Math.round((n / 1048576) * 100) / 100;
    console.log(JSON.stringify({ cpuMs: (c.user + c.system) / 1000, rssMB: mb(m.rss), heapMB: mb(m.heapUsed) }));
    process.exit(0);
  }, 300);
});
