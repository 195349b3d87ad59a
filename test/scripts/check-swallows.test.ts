import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { tempTree } from './temp-tree.js';

type CheckSwallows = (root: string) => string[];
const script = pathToFileURL(resolve(process.cwd(), 'scripts', 'check-swallows.mjs')).href;
const { checkSwallows } = (await import(script)) as { checkSwallows: CheckSwallows };

const tree = (files: Record<string, string>): string => tempTree('check-swallows.', files);

test('every shape of a dropped error is reported, with file and line', () => {
  const root = tree({
    'src/a/one.ts': [
      'await close().catch(() => undefined);',
      'await close().catch(() => {});',
      "const t = await read().catch(() => '');",
      'const l = await list().catch(() => [] as string[]);',
      'p.catch((_err) => null);',
      'p.then((v) => use(v), () => undefined);',
      'try { f(); } catch {}',
      'try { f(); } catch (e) {',
      '}',
      "sock.on('error', () => {});",
    ].join('\n'),
    'cmd/main.ts': "x.catch(_ => void 0);\nconst r = await p.catch(() => 'aborted' as const);\n",
  });
  const problems = checkSwallows(root);
  const lines = problems.map((p) => p.split(': ')[0]);
  assert.deepEqual(lines, [
    'cmd/main.ts:1', 'cmd/main.ts:2',
    'src/a/one.ts:1', 'src/a/one.ts:2', 'src/a/one.ts:3', 'src/a/one.ts:4', 'src/a/one.ts:5',
    'src/a/one.ts:6', 'src/a/one.ts:7', 'src/a/one.ts:8', 'src/a/one.ts:10',
  ], problems.join('\n'));
});

test('handled errors, a catch block that says why, and commented-out code are not reported', () => {
  const root = tree({
    'src/a/ok.ts': [
      "await close().catch(logTeardown(log, 'closing'));",
      "await rm(p).catch(ignoreErrno('ENOENT')); // gone already",
      "p.catch((err: Error) => log.warn('x', { error: err.message }));",
      'p.then(() => true, (err) => report(err));',
      'handledElsewhere(p);',
      'try { f(); } catch {',
      '  // already closed: nothing to release',
      '}',
      '// old: p.catch(() => undefined);',
      '/* p.catch(() => {}) */',
      "const s = 'http://x'; p.catch((e) => e);",
      "sock.on('error', () => {}); // 'close' follows",
      "sock.on('error', (err) => log.debug('x', { err }));",
    ].join('\n'),
  });
  assert.deepEqual(checkSwallows(root), []);
});

test('this repository drops no error without a word (scripts/check-swallows.mjs)', () => {
  assert.deepEqual(checkSwallows(process.cwd()), []);
});
