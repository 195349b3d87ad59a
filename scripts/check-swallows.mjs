#!/usr/bin/env node
// Finds errors dropped without a word in the TypeScript sources (cmd/, src/): house rule "teardown errors are
// logged, never swallowed". Reported:
//   1. a rejection handler that ignores the error and returns nothing or a constant:
//      `.catch(() => undefined)`, `.catch(() => {})`, `.catch((_e) => [])`, `.then(f, () => undefined)`, …;
//   2. an empty catch block, `catch {}` / `catch (e) {}` (a block that holds only a comment saying why is kept);
//   3. an 'error' listener that ignores the error, `.on('error', () => {})`, without a comment on its line saying
//      where the failure surfaces instead (a stream needs a listener so an error does not crash the process).
// What to write instead: `.catch(logTeardown(log, 'what'))` (src/log; the guest's own in src/guest/log.ts),
// `.catch(ignoreErrno('ENOENT'))` / `.catch(ignoreAbsent)` with a comment why that code is expected
// (src/errdefs), `handledElsewhere(p)` / `whenSettled(p)` when another path reports the outcome (src/async).
// Prints every finding and exits 1 if there is one. Usage: node scripts/check-swallows.mjs [repo root]
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const CONSTANT = String.raw`(?:undefined|null|void 0|\{\s*\}|\[\s*\]|'[^'\n]*'|"[^"\n]*"|-?\d+|true|false)(?:\s+as\s+[\w\[\]]+)?`;
const IGNORING = String.raw`(?:\(\s*\)|\(\s*_\w*(?:\s*:\s*\w+)?\s*\)|_\w*)\s*=>\s*${CONSTANT}\s*`;
const RULES = [
  { re: new RegExp(String.raw`\.catch\(\s*${IGNORING}\)`, 'g'), what: 'a .catch handler that drops the error' },
  { re: new RegExp(String.raw`\.then\([^;]*?,\s*${IGNORING}\)`, 'g'), what: 'a .then rejection handler that drops the error' },
  { re: /\bcatch\s*(?:\(\s*\w*\s*\))?\s*\{\s*\}/g, what: 'an empty catch block' },
  { re: new RegExp(String.raw`\.on\(\s*'error'\s*,\s*${IGNORING}\)`, 'g'), what: 'an error listener that drops the error without saying why' },
];

/** The .ts sources under `dir` (not .d.ts, not gen/ or node_modules/); none when `dir` is absent. */
export function listTs(dir) {
  const out = [];
  let names;
  try { names = readdirSync(dir); } catch { return out; } // no such folder: nothing to check
  for (const name of names) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) { if (name !== 'gen' && name !== 'node_modules') out.push(...listTs(p)); }
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Blanks comments (keeping line breaks and offsets), so a commented-out swallow is not reported. */
export function blankComments(text) {
  return text.replace(/\/\*[\s\S]*?\*\/|(^|[^:'"`\\])\/\/.*$/gm, (m, pre = '') => pre + m.slice(pre.length).replace(/[^\n]/g, ' '));
}

export function checkSwallows(root) {
  const problems = [];
  for (const file of [...listTs(join(root, 'cmd')), ...listTs(join(root, 'src'))]) {
    const raw = readFileSync(file, 'utf8');
    const text = blankComments(raw);
    for (const { re, what } of RULES) {
      for (const m of text.matchAll(re)) {
        // A catch block whose only content is a comment says why: kept (it was blanked above, so look at raw).
        if (what === 'an empty catch block' && /\/[/*]/.test(raw.slice(m.index, m.index + m[0].length))) continue;
        // An ignoring 'error' listener with a comment on its line says where the failure goes: kept.
        if (what.startsWith('an error listener') && /\/\//.test(raw.slice(m.index, raw.indexOf('\n', m.index) >>> 0))) continue;
        const line = text.slice(0, m.index).split('\n').length;
        problems.push(`${relative(root, file)}:${line}: ${what}: ${m[0].replace(/\s+/g, ' ')}`);
      }
    }
  }
  return problems;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const root = resolve(process.argv[2] ?? join(dirname(new URL(import.meta.url).pathname), '..'));
  const problems = checkSwallows(root);
  for (const p of problems) console.error(`check-swallows: ${p}`);
  if (problems.length > 0) { console.error(`check-swallows: ${problems.length} swallowed error(s)`); process.exit(1); }
  console.error('check-swallows: no error dropped without a word');
}
