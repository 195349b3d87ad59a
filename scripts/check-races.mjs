#!/usr/bin/env node
// Finds hand-made timeout races in the TypeScript sources (cmd/, src/): a `Promise.race` in the same function as a
// timer (`setTimeout(`, `sleep(`, `delay(`, `AbortSignal.timeout(`, node:timers/promises). House rule: the one
// timeout race of the project is settlesWithin (src/async), which clears its timer and abort listener once the race
// is decided; a hand-made one tends to leave the timer running (keeping the process alive) or the loser unobserved.
// src/async itself is where that race lives, so it is not checked. A race that must stay says why with
// `// timeout-race: <why>` on the line of its `Promise.race`.
// Tests and scripts are not checked: their deadlines bound a whole test or tool run (a hung peer fails the test),
// not a code path of the shim, and they may stop the process when they expire.
// "The same function": the innermost enclosing block that is not an if/else/for/while/do/switch/try/catch/finally
// block (so a timer set up earlier in the function counts), or the whole file at top level.
// Prints every finding and exits 1 if there is one. Usage: node scripts/check-races.mjs [repo root]
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { blankComments, listTs } from './check-swallows.mjs';

const RACE = /\bPromise\.race\s*\(/g;
const TIMER = /\b(?:setTimeout|sleep|delay|AbortSignal\.timeout)\s*\(|['"](?:node:)?timers\/promises['"]/;
const CONTROL_BLOCK = /(?:\b(?:else|try|finally|do)\s*|\b(?:if|for|while|switch|catch)\s*\([^{};]*\)\s*)$/;

/** The index of the `{` opening the block that encloses `at`, or -1 at top level. */
function openerBefore(text, at) {
  let depth = 0;
  for (let i = at - 1; i >= 0; i--) {
    const c = text[i];
    if (c === '}') depth++;
    else if (c === '{') { if (depth === 0) return i; depth--; }
  }
  return -1;
}

/** The index just past the `}` matching the `{` at `open`. */
function closerAfter(text, open) {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '{') depth++;
    else if (text[i] === '}' && --depth === 0) return i + 1;
  }
  return text.length;
}

/** The text of the function around `at`: its body, or the whole file at top level. */
function enclosingFunction(text, at) {
  let open = openerBefore(text, at);
  while (open >= 0 && CONTROL_BLOCK.test(text.slice(Math.max(0, open - 200), open))) open = openerBefore(text, open);
  return open < 0 ? text : text.slice(open, closerAfter(text, open));
}

export function checkRaces(root) {
  const problems = [];
  for (const file of [...listTs(join(root, 'cmd')), ...listTs(join(root, 'src'))]) {
    const rel = relative(root, file);
    if (rel.startsWith(join('src', 'async') + sep)) continue; // settlesWithin's home
    const raw = readFileSync(file, 'utf8');
    const text = blankComments(raw);
    for (const m of text.matchAll(RACE)) {
      const lineEnd = raw.indexOf('\n', m.index);
      if (/\/\/\s*timeout-race:\s*\S/.test(raw.slice(m.index, lineEnd < 0 ? raw.length : lineEnd))) continue;
      if (!TIMER.test(enclosingFunction(text, m.index))) continue;
      const line = text.slice(0, m.index).split('\n').length;
      problems.push(`${rel}:${line}: a Promise.race with a timer: use settlesWithin (src/async) or say why with // timeout-race:`);
    }
  }
  return problems;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const root = resolve(process.argv[2] ?? join(dirname(new URL(import.meta.url).pathname), '..'));
  const problems = checkRaces(root);
  for (const p of problems) console.error(`check-races: ${p}`);
  if (problems.length > 0) { console.error(`check-races: ${problems.length} hand-made timeout race(s)`); process.exit(1); }
  console.error('check-races: no hand-made timeout race');
}
