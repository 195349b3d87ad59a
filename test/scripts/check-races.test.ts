import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { tempTree } from './temp-tree.js';

type CheckRaces = (root: string) => string[];
const script = pathToFileURL(resolve(process.cwd(), 'scripts', 'check-races.mjs')).href;
const { checkRaces } = (await import(script)) as { checkRaces: CheckRaces };

const tree = (files: Record<string, string>): string => tempTree('check-races.', files);

test('a Promise.race with a timer in the same function is reported, with file and line', () => {
  const root = tree({
    'src/a/one.ts': [
      'export async function a(p: Promise<void>): Promise<void> {',
      '  await Promise.race([p, new Promise((r) => setTimeout(r, 100))]);',
      '}',
      "import { setTimeout as sleep } from 'node:timers/promises';",
      'export async function b(p: Promise<void>): Promise<void> {',
      '  const cut = sleep(50);',
      '  if (p !== undefined) {',
      '    try {',
      '      await Promise.race([p, cut]);',
      '    } finally {',
      '      done();',
      '    }',
      '  }',
      '}',
      'const c = (p: Promise<void>) => Promise.race([p, delay(5).then(() => { throw new Error(); })]);',
      'const d = Promise.race([x, AbortSignal.timeout(5)]);',
    ].join('\n'),
    'cmd/main.ts': "import { setTimeout } from 'node:timers/promises';\nawait Promise.race([run(), setTimeout(1000)]);\n",
  });
  const problems = checkRaces(root);
  assert.deepEqual(problems.map((p) => p.split(': ')[0]), [
    'cmd/main.ts:2', 'src/a/one.ts:2', 'src/a/one.ts:9', 'src/a/one.ts:15', 'src/a/one.ts:16',
  ], problems.join('\n'));
  assert.match(problems[0] ?? '', /settlesWithin/);
});

test('races without a timer, timers elsewhere, src/async, annotated races and comments are not reported', () => {
  const root = tree({
    'src/a/ok.ts': [
      'export async function a(work: Promise<void>, signal: AbortSignal): Promise<void> {',
      '  await Promise.race([work, whenAborted(signal)]);',
      '}',
      'export function b(): void {',
      '  setTimeout(tick, 10);',
      '}',
      'export async function c(p: Promise<void>): Promise<void> {',
      '  await Promise.race([p, sleep(5)]); // timeout-race: the loser is a no-op and the timer is unref()ed',
      '}',
      '// old: await Promise.race([p, sleep(5)]);',
    ].join('\n'),
    'src/async/settles-within.ts': 'export const s = (p: Promise<void>) => Promise.race([p, new Promise((r) => setTimeout(r, 5))]);\n',
    'test/a.test.ts': 'await Promise.race([p, sleep(5)]);\n',
  });
  assert.deepEqual(checkRaces(root), []);
});

test('this repository has no hand-made timeout race outside src/async (scripts/check-races.mjs)', () => {
  assert.deepEqual(checkRaces(process.cwd()), []);
});
