#!/usr/bin/env node
// The containerd half of scripts/bench.sh: against one running private containerd, measures
//   (a) `ctr run --rm <rootfs> id /bin/true` wall time, lcow vs runc-v2 (interleaved, after a warm-up),
//   (b) K containers started at once, wall time until all have exited, both runtimes,
//   (c) VmRSS of the shim daemon (and of the emulated VM's guest agent) with one running container, 1 s
//       after `ctr run -d` returned and again, on the same container, --rss-settled-s (default 12) after it,
//       and at the 1 s read the minor page faults each process has taken since it began,
//   (f) the start-up breakdown of one lcow container from containerd's debug log,
//   (g) with --ttrpc-go: Task.Connect calls/s on each shim's own socket from a Go ttrpc client
//       (scripts/bench/ttrpc-go.go), 1 and 16 in flight, the runtimes alternating.
// Usage: node scripts/bench/containerd-bench.mjs --address SOCK --rootfs DIR --log CONTAINERD_LOG
//          --state STATE_DIR [--n 20] [--concurrent 50] [--concurrent-reps 3] [--rss-reps 3] [--rss-settled-s 12]
//          [--ttrpc-go BIN] [--connect-calls 20000] [--connect-reps 3] --out FILE.json
import { execFile, spawn } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs, promisify } from 'node:util';
import { milestonesOf } from './milestones.mjs';
import { summarize } from './stats.mjs';

const { values: o } = parseArgs({
  options: {
    address: { type: 'string' },
    rootfs: { type: 'string' },
    log: { type: 'string' },
    state: { type: 'string' },
    n: { type: 'string', default: '20' },
    concurrent: { type: 'string', default: '50' },
    'concurrent-reps': { type: 'string', default: '3' },
    'rss-reps': { type: 'string', default: '3' },
    'rss-settled-s': { type: 'string', default: '12' },
    'ttrpc-go': { type: 'string' },
    'connect-calls': { type: 'string', default: '20000' },
    'connect-reps': { type: 'string', default: '3' },
    out: { type: 'string' },
    // another containerd's ctr (scripts/bench.sh's 2.x run), and only (a), the sequential `ctr run --rm`
    ctr: { type: 'string', default: 'ctr' },
    'run-rm-only': { type: 'boolean', default: false },
  },
});
for (const k of ['address', 'rootfs', 'log', 'state', 'out']) {
  if (!o[k]) {
    console.error(`containerd-bench: --${k} is required`);
    process.exit(2);
  }
}

const RUNTIMES = { lcow: 'io.containerd.lcow.v1', runc: 'io.containerd.runc.v2' };
const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;
delete env.NODE_OPTIONS;
let seq = 0;
const newId = (tag) => `bench-${tag}-${process.pid}-${seq++}`;

/** Runs ctr with args; resolves with the wall time in ms; rejects with its output on a non-zero exit. */
function ctr(args) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(o.ctr, ['-a', o.address, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (code === 0) resolve({ ms, out });
      else reject(new Error(`ctr ${args.join(' ')} exited with ${code}: ${out.trim()}`));
    });
  });
}

const runRm = (runtime, id, cmd = ['/bin/true']) => ctr(['run', '--rm', '--runtime', runtime, '--rootfs', o.rootfs, id, ...cmd]);

/** (a) sequential `ctr run --rm`, interleaving the runtimes so both see the same machine state. */
async function sequential(n) {
  const ms = { lcow: [], runc: [] };
  for (const name of Object.keys(RUNTIMES)) await runRm(RUNTIMES[name], newId(`warm-${name}`)); // warm-up
  for (let i = 0; i < n; i++) {
    for (const name of Object.keys(RUNTIMES)) ms[name].push((await runRm(RUNTIMES[name], newId(name))).ms);
  }
  return { lcow: summarize(ms.lcow), runc: summarize(ms.runc), ratioMedian: round(median(ms.lcow) / median(ms.runc), 2) };
}

/** (b) k containers at once; the wall time until every ctr has returned. */
async function concurrent(k, reps) {
  const res = {};
  for (const name of Object.keys(RUNTIMES)) {
    const ms = [];
    for (let r = 0; r < reps; r++) {
      const t0 = process.hrtime.bigint();
      const runs = Array.from({ length: k }, () => runRm(RUNTIMES[name], newId(`c-${name}`)));
      const settled = await Promise.allSettled(runs);
      const failed = settled.filter((s) => s.status === 'rejected');
      if (failed.length > 0) throw new Error(`${failed.length}/${k} concurrent ${name} runs failed; first: ${failed[0].reason.message}`);
      ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    res[name] = summarize(ms);
  }
  res.containers = k;
  res.ratioMedian = round(res.lcow.median / res.runc.median, 2);
  return res;
}

function vmRssKb(pid) {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Minor page faults `pid` has taken since it began (/proc/PID/stat field 10). Machine-independent where time is
 * not: what one fault costs ranges from ~1 µs natively to ~12 µs in a PVM guest (README, the page-fault round).
 */
function minorFaults(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[7]);
  } catch {
    return undefined;
  }
}

/** Every descendant pid of `root` (walks /proc's ppid links). */
function descendants(root) {
  const children = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(d));
    } catch {
      /* gone */
    }
  }
  const out = [];
  const walk = (p) => {
    for (const c of children.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(root);
  return out;
}

const cmdline = (pid) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
};

/** The shim daemon serving task `id`: its bundle's shim.pid, else the containerd-shim process with `-id id`. */
function shimPid(id) {
  try {
    return Number(readFileSync(join(o.state, 'io.containerd.runtime.v2.task', 'default', id, 'shim.pid'), 'utf8'));
  } catch {
    for (const d of readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      const args = cmdline(Number(d)).split(' ');
      const i = args.indexOf('-id');
      if (/containerd-shim/.test(args[0] ?? '') && i >= 0 && args[i + 1] === id) return Number(d);
    }
    throw new Error(`no shim process found for task ${id}`);
  }
}

/**
 * (c) RSS of the shim daemon (+ guest agent) with one running `sleep` container: 1 s after `ctr run -d`
 * returned (the target's figure, taken as it always was), then again on the same container `settledS` after
 * it (0: not). Why both: the daemon lives as long as its container, so what it holds once V8 has settled is
 * what a host pays per container, while at 1 s V8 still holds the start-up's grown new space and
 * uncompacted old-space pages, which its memory reducer returns ~8 s later (README "Memory and Task.Connect").
 */
async function rss(reps, settledS) {
  const res = {};
  for (const name of Object.keys(RUNTIMES)) {
    const shim = [];
    const guest = [];
    const shimSettled = [];
    const guestSettled = [];
    const shimFaults = [];
    const guestFaults = [];
    for (let r = 0; r < reps; r++) {
      const id = newId(`rss-${name}`);
      await ctr(['run', '-d', '--runtime', RUNTIMES[name], '--rootfs', o.rootfs, id, '/bin/sleep', '120']);
      try {
        await sleep(1000); // let start-up garbage settle, as a long-running shim would
        const pid = shimPid(id);
        shim.push(vmRssKb(pid) / 1024);
        const faults = minorFaults(pid);
        if (faults !== undefined) shimFaults.push(faults);
        const agent = name === 'lcow'
          ? descendants(pid).find((p) => /guest\/main\.js|lcow-guest/.test(cmdline(p)) && !cmdline(p).startsWith('/usr/bin/setpriv'))
          : undefined;
        if (agent !== undefined) {
          guest.push(vmRssKb(agent) / 1024);
          const agentFaults = minorFaults(agent);
          if (agentFaults !== undefined) guestFaults.push(agentFaults);
        }
        if (settledS > 1) {
          await sleep((settledS - 1) * 1000);
          shimSettled.push(vmRssKb(pid) / 1024);
          if (agent !== undefined) guestSettled.push(vmRssKb(agent) / 1024);
        }
      } finally {
        await ctr(['task', 'kill', '-s', 'SIGKILL', id]).catch(() => undefined);
        for (let i = 0; i < 50; i++) {
          const st = await ctr(['task', 'ls']).catch(() => ({ out: '' }));
          if (!st.out.includes(id) || /STOPPED/.test(st.out.split('\n').find((l) => l.startsWith(id)) ?? '')) break;
          await sleep(100);
        }
        await ctr(['task', 'delete', id]).catch(() => undefined);
        await ctr(['container', 'rm', id]).catch(() => undefined);
      }
    }
    res[name] = { shimMB: summarize(shim, 1), shimFaults: summarize(shimFaults, 0) };
    if (guest.length > 0) res[name].guestAgentMB = summarize(guest, 1);
    if (guestFaults.length > 0) res[name].guestAgentFaults = summarize(guestFaults, 0);
    if (shimSettled.length > 0) res[name].shimSettledMB = summarize(shimSettled, 1);
    if (guestSettled.length > 0) res[name].guestAgentSettledMB = summarize(guestSettled, 1);
  }
  if (settledS > 1) res.settledS = settledS;
  return res;
}

/**
 * (f) One lcow container, its milestones from containerd's debug log (the shim's logrus lines carry
 * tid=<id>; containerd's own carry id=<id>). Times are ms after `ctr run` was spawned.
 */
async function breakdown() {
  const id = newId('trace');
  const t0 = Date.now();
  const { ms } = await runRm(RUNTIMES.lcow, id);
  await sleep(300); // containerd copies the shim's FIFO asynchronously
  const milestones = milestonesOf(readFileSync(o.log, 'utf8'), id, t0);
  milestones.push({ name: 'ctr returned', ms: Math.round(ms) });
  return { id, milestones };
}

/**
 * (g) Task.Connect on the shim's socket (what containerd calls on every shim it loads), from a Go ttrpc
 * client: one running `sleep` container per runtime, the runtimes alternating, `reps` times each.
 */
async function connectRate(bin, calls, reps) {
  const ids = {};
  const socks = {};
  const res = {};
  try {
    for (const name of Object.keys(RUNTIMES)) {
      ids[name] = newId(`connect-${name}`);
      await ctr(['run', '-d', '--runtime', RUNTIMES[name], '--rootfs', o.rootfs, ids[name], '/bin/sleep', '300']);
      const address = readFileSync(join(o.state, 'io.containerd.runtime.v2.task', 'default', ids[name], 'address'), 'utf8');
      socks[name] = address.trim().replace(/^unix:\/\//, '');
      res[name] = { 1: [], 16: [] };
    }
    for (let r = 0; r < reps; r++) {
      for (const inFlight of [1, 16]) {
        for (const name of Object.keys(RUNTIMES)) {
          const { stdout } = await promisify(execFile)(bin, ['connect', socks[name], String(calls), String(inFlight), '500', ids[name]]);
          res[name][inFlight].push(JSON.parse(stdout).callsPerSec);
        }
      }
    }
  } finally {
    for (const id of Object.values(ids)) {
      await ctr(['task', 'kill', '-s', 'SIGKILL', id]).catch(() => undefined);
      for (let i = 0; i < 50; i++) {
        const st = await ctr(['task', 'ls']).catch(() => ({ out: '' }));
        if (!st.out.includes(id) || /STOPPED/.test(st.out.split('\n').find((l) => l.startsWith(id)) ?? '')) break;
        await sleep(100);
      }
      await ctr(['task', 'delete', id]).catch(() => undefined);
      await ctr(['container', 'rm', id]).catch(() => undefined);
    }
  }
  const out = { calls };
  for (const k of [1, 16]) {
    out[k] = { lcow: summarize(res.lcow[k], 0), runc: summarize(res.runc[k], 0) };
    out[k].ratioMedian = round(out[k].lcow.median / out[k].runc.median, 2);
  }
  return out;
}

const median = (xs) => summarize(xs).median;
const round = (x, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

const n = Number(o.n);
const result = { n };
process.stderr.write(`bench: (a) ctr run --rm, ${n} runs per runtime\n`);
result.runRm = await sequential(n);
if (o['run-rm-only']) {
  writeFileSync(o.out, JSON.stringify(result, null, 2) + '\n');
  process.exit(0);
}
process.stderr.write(`bench: (f) start-up breakdown\n`);
result.breakdown = await breakdown();
process.stderr.write(`bench: (c) RSS with one running container\n`);
result.rss = await rss(Number(o['rss-reps']), Number(o['rss-settled-s']));
if (o['ttrpc-go']) {
  process.stderr.write(`bench: (g) Task.Connect from a Go ttrpc client\n`);
  result.connect = await connectRate(o['ttrpc-go'], Number(o['connect-calls']), Number(o['connect-reps']));
}
process.stderr.write(`bench: (b) ${o.concurrent} containers at once, ${o['concurrent-reps']} times per runtime\n`);
result.concurrent = await concurrent(Number(o.concurrent), Number(o['concurrent-reps']));
writeFileSync(o.out, JSON.stringify(result, null, 2) + '\n');
