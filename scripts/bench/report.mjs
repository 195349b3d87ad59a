#!/usr/bin/env node
// Combines the parts of scripts/bench.sh into results/bench.json, results/bench.md (the table, also
// printed) and results/bench.png (chart.js rendered on @napi-rs/canvas: no browser).
// Usage: node scripts/bench/report.mjs RESULTS_DIR   (reads containerd.json, gcs.json, ttrpc.json, machine.json)
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2] ?? 'results';
const load = (f) => (existsSync(join(dir, f)) ? JSON.parse(readFileSync(join(dir, f), 'utf8')) : undefined);
const machine = load('machine.json') ?? {};
const ctd = load('containerd.json');
const ctd2 = load('containerd2.json'); // (a) under containerd 2.x
const gcs = load('gcs.json');
const ttrpc = load('ttrpc.json');
const all = { machine, containerd: ctd, containerd2: ctd2, gcs, ttrpc };
writeFileSync(join(dir, 'bench.json'), JSON.stringify(all, null, 2) + '\n');

const md = [];
const row = (...cells) => md.push(`| ${cells.join(' | ')} |`);
const s3 = (s) => (s ? `${s.min} / ${s.median} / ${s.p95}` : 'n/a');
md.push(`Machine: ${machine.nproc} cores, ${machine.memory}, kernel ${machine.kernel}, node ${machine.node}, containerd ${machine.containerd}, runc ${machine.runc}; ${machine.date}.`);
md.push('');
if (ctd) {
  md.push(`containerd (min / median / p95; ${ctd.n} sequential runs, ${ctd.concurrent.lcow.n} concurrent batches):`);
  md.push('');
  row('what', 'lcow (ours)', 'runc-v2', 'ratio (median)');
  row('---', '---', '---', '---');
  row('`ctr run --rm … /bin/true` (ms)', s3(ctd.runRm.lcow), s3(ctd.runRm.runc), `${ctd.runRm.ratioMedian}×`);
  if (ctd2?.runRm) row(`the same under containerd ${machine.containerd2 || '2.x'} (ms)`, s3(ctd2.runRm.lcow), s3(ctd2.runRm.runc), `${ctd2.runRm.ratioMedian}×`);
  row(`${ctd.concurrent.containers} containers at once, until all exited (ms)`, s3(ctd.concurrent.lcow), s3(ctd.concurrent.runc), `${ctd.concurrent.ratioMedian}×`);
  row('shim daemon RSS, one running container (MB)', s3(ctd.rss.lcow.shimMB), s3(ctd.rss.runc.shimMB), ctd.rss.runc.shimMB.median ? `${Math.round((ctd.rss.lcow.shimMB.median / ctd.rss.runc.shimMB.median) * 10) / 10}×` : '');
  if (ctd.rss.lcow.shimSettledMB) {
    // The same containers, read again once V8 has settled: the daemon lives as long as its container.
    const [l, r] = [ctd.rss.lcow.shimSettledMB, ctd.rss.runc.shimSettledMB];
    row(`shim daemon RSS, the same container ${ctd.rss.settledS} s after \`ctr run -d\`, V8 settled (MB)`, s3(l), s3(r), r?.median ? `${Math.round((l.median / r.median) * 10) / 10}×` : '');
  }
  if (ctd.rss.lcow.guestAgentMB) row('emulated VM guest agent RSS (MB)', s3(ctd.rss.lcow.guestAgentMB), '—', '');
  // Counts, not times: what a page fault costs depends on the machine (~1 µs natively, ~12 µs in a PVM guest).
  const [fl, fr] = [ctd.rss.lcow.shimFaults, ctd.rss.runc.shimFaults];
  if (fl) row('shim daemon minor page faults by the 1 s read (count)', s3(fl), s3(fr), fr?.median ? `${Math.round((fl.median / fr.median) * 10) / 10}×` : '');
  if (ctd.rss.lcow.guestAgentFaults) row('emulated VM guest agent minor page faults by the 1 s read (count)', s3(ctd.rss.lcow.guestAgentFaults), '—', '');
  for (const k of [16, 1]) {
    const c = ctd.connect?.[k];
    if (c) row(`Task.Connect from a Go ttrpc client, ${k} in flight (calls/s)`, s3(c.lcow), s3(c.runc), `${c.ratioMedian}×`);
  }
  md.push('');
  md.push('Start-up of one lcow container (ms after `ctr run` was spawned, from containerd\'s debug log):');
  md.push('');
  row(...ctd.breakdown.milestones.map((m) => m.name));
  row(...ctd.breakdown.milestones.map(() => '---:'));
  row(...ctd.breakdown.milestones.map((m) => (m.ms === undefined ? 'n/a' : String(m.ms))));
  md.push('');
}
if (ttrpc) {
  md.push(`ttrpc unary echo (${ttrpc.payloadBytes}-byte payload, ${ttrpc.calls} calls per cell, unix socket; Go ${ttrpc.go}, containerd/ttrpc ${ttrpc.goTtrpc}):`);
  md.push('');
  row('client → server', 'calls/s @1', 'p50/p99 µs @1', 'calls/s @16', 'p50/p99 µs @16');
  row('---', '---:', '---:', '---:', '---:');
  for (const p of ttrpc.pairs) {
    const [a, b] = [p.results.find((r) => r.inFlight === 1), p.results.find((r) => r.inFlight === 16)];
    row(`${p.client} → ${p.server}`, a?.callsPerSec, `${a?.p50us} / ${a?.p99us}`, b?.callsPerSec, `${b?.p50us} / ${b?.p99us}`);
  }
  const at16 = (c, s) => ttrpc.pairs.find((p) => p.client === c && p.server === s)?.results.find((r) => r.inFlight === 16)?.callsPerSec;
  md.push('');
  md.push(`ours→ours / go→go at 16 in flight: ${Math.round((at16('ours', 'ours') / at16('go', 'go')) * 100) / 100}×`);
  md.push('');
}
if (gcs) {
  md.push('GCS bridge round trips against the real guest agent (src/gcs connectGuest ⇄ src/guest):');
  md.push('');
  row('request', 'in flight', 'round trips/s', 'p50 µs', 'p99 µs');
  row('---', '---:', '---:', '---:', '---:');
  for (const r of gcs.results) row(r.rpc, r.inFlight, r.roundTripsPerSec, r.p50us, r.p99us);
  md.push('');
}
const text = md.join('\n');
writeFileSync(join(dir, 'bench.md'), text + '\n');
console.log(text);

// The chart: five panels drawn with chart.js onto one canvas.
try {
  const { createCanvas } = await import('@napi-rs/canvas');
  const { Chart, registerables } = await import('chart.js');
  Chart.register(...registerables);
  const W = 520;
  const H = 320;
  const big = createCanvas(W * 3, H * 2);
  const g = big.getContext('2d');
  g.fillStyle = '#ffffff';
  g.fillRect(0, 0, W * 3, H * 2);
  const colors = { lcow: '#1f77b4', runc: '#ff7f0e', other: '#2ca02c', grey: '#7f7f7f' };
  const panel = (i, config) => {
    const c = createCanvas(W, H);
    const chart = new Chart(c, {
      ...config,
      options: { animation: false, responsive: false, devicePixelRatio: 1, plugins: { title: { display: true, text: config.title }, legend: { display: config.legend ?? true } }, ...(config.options ?? {}) },
    });
    g.drawImage(c, (i % 3) * W, Math.floor(i / 3) * H);
    chart.destroy();
  };
  const bars = (labels, series) => ({ labels, datasets: series.map(([label, data, color]) => ({ label, data, backgroundColor: color })) });
  if (ctd) {
    const st = ['min', 'median', 'p95'];
    panel(0, { type: 'bar', title: '`ctr run --rm` wall time (ms)', data: bars(st, [['lcow (ours)', st.map((k) => ctd.runRm.lcow[k]), colors.lcow], ['runc-v2', st.map((k) => ctd.runRm.runc[k]), colors.runc]]) });
    panel(1, { type: 'bar', title: `${ctd.concurrent.containers} containers at once (ms)`, data: bars(st, [['lcow (ours)', st.map((k) => ctd.concurrent.lcow[k]), colors.lcow], ['runc-v2', st.map((k) => ctd.concurrent.runc[k]), colors.runc]]) });
    const settled = ctd.rss.settledS ? `shim daemon ${ctd.rss.settledS} s` : undefined;
    const rssLabels = ['shim daemon 1 s', ...(settled ? [settled] : []), 'guest agent'];
    const lcowRss = [ctd.rss.lcow.shimMB.median, ...(settled ? [ctd.rss.lcow.shimSettledMB?.median ?? 0] : []), ctd.rss.lcow.guestAgentMB?.median ?? 0];
    const runcRss = [ctd.rss.runc.shimMB.median, ...(settled ? [ctd.rss.runc.shimSettledMB?.median ?? 0] : []), 0];
    panel(2, { type: 'bar', title: 'RSS with one running container (MB, median)', data: bars(rssLabels, [['lcow (ours)', lcowRss, colors.lcow], ['runc-v2', runcRss, colors.runc]]) });
    const ms = ctd.breakdown.milestones.filter((m) => m.ms !== undefined);
    panel(4, { type: 'bar', title: 'start-up of one lcow container (ms after ctr run)', legend: false, data: bars(ms.map((m) => m.name), [['ms', ms.map((m) => m.ms), colors.lcow]]), options: { indexAxis: 'y' } });
  }
  if (ttrpc) {
    const pairs = ttrpc.pairs.map((p) => `${p.client}→${p.server}`);
    const at = (k) => ttrpc.pairs.map((p) => p.results.find((r) => r.inFlight === k)?.callsPerSec ?? 0);
    panel(3, { type: 'bar', title: 'ttrpc unary calls/s', data: bars(pairs, [['1 in flight', at(1), colors.grey], ['16 in flight', at(16), colors.other]]) });
  }
  if (gcs) {
    const ds = gcs.results.filter((r) => r.rpc === 'DumpStacks');
    panel(5, { type: 'bar', title: 'GCS bridge DumpStacks round trips/s', legend: false, data: bars(ds.map((r) => `${r.inFlight} in flight`), [['round trips/s', ds.map((r) => r.roundTripsPerSec), colors.lcow]]) });
  }
  writeFileSync(join(dir, 'bench.png'), big.toBuffer('image/png'));
  console.log(`\n(results: ${join(dir, 'bench.json')}, ${join(dir, 'bench.md')}, ${join(dir, 'bench.png')})`);
} catch (err) {
  console.error(`bench: no chart (${err.message}); the JSON and the table are written`);
}
