#!/usr/bin/env node
// Fuzzes the GCS frame decoder on the BUILT output (millions of frames by default).
// Usage: node scripts/fuzz-gcs.mjs [--out DIR] [-n FRAMES] [--seed N]
//   --out   build output folder holding scripts/fuzz-gcs-engine.js (default: dist)
//   -n      frames to push through (default 2000000; also env FUZZ_GCS_FRAMES)
//   --seed  PRNG seed (default: time-based; printed so a failure replays)
// Exits 1 if the decoder ever throws anything but GcsProtocolError, emits an oversize body, garbles a valid
// frame, or buffers more than its limit.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : dflt;
};
const out = resolve(opt('--out', 'dist'));
const frames = Number(opt('-n', process.env.FUZZ_GCS_FRAMES ?? '2000000'));
const seed = Number(opt('--seed', String(Date.now() % 0x7fffffff)));
if (!Number.isInteger(frames) || frames <= 0) {
  console.error(`fuzz-gcs: -n must be a positive integer, got ${opt('-n', '')}`);
  process.exit(2);
}
const engine = join(out, 'scripts', 'fuzz-gcs-engine.js');
if (!existsSync(engine)) {
  console.error(`fuzz-gcs: ${engine} not found; build first (node scripts/build.mjs --out ${out})`);
  process.exit(2);
}
const { runDecoderFuzz } = await import(pathToFileURL(engine).href);

const started = process.hrtime.bigint();
const batch = 100_000;
const total = { frames: 0, bytes: 0, decodedFrames: 0, protocolErrors: 0, maxBuffered: 0, violations: [] };
for (let done = 0, round = 0; done < frames; round++) {
  const n = Math.min(batch, frames - done);
  const s = runDecoderFuzz({ frames: n, seed: (seed + round) >>> 0 });
  for (const k of ['frames', 'bytes', 'decodedFrames', 'protocolErrors']) total[k] += s[k];
  total.maxBuffered = Math.max(total.maxBuffered, s.maxBuffered);
  for (const v of s.violations) total.violations.push(`seed ${(seed + round) >>> 0}: ${v}`);
  done += s.frames;
}
const secs = Number(process.hrtime.bigint() - started) / 1e9;
console.log(
  `fuzz-gcs: seed=${seed} frames=${total.frames} bytes=${total.bytes} decoded=${total.decodedFrames} ` +
    `protocolErrors=${total.protocolErrors} maxBuffered=${total.maxBuffered} time=${secs.toFixed(1)}s ` +
    `(${Math.round(total.frames / secs)} frames/s)`,
);
if (total.violations.length > 0) {
  console.error('fuzz-gcs: VIOLATIONS\n  ' + total.violations.slice(0, 20).join('\n  '));
  process.exit(1);
}
