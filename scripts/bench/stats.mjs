// Summary statistics for the benchmark: min / median / p95 (nearest rank) of a list of samples.

/** { n, min, median, p95, max } of `xs`, rounded to `digits` decimals. */
export function summarize(xs, digits = 1) {
  if (xs.length === 0) return { n: 0, min: null, median: null, p95: null, max: null };
  const s = [...xs].sort((a, b) => a - b);
  const rank = (p) => s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
  const mid = s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  const r = (x) => Math.round(x * 10 ** digits) / 10 ** digits;
  return { n: s.length, min: r(s[0]), median: r(mid), p95: r(rank(95)), max: r(s[s.length - 1]) };
}
