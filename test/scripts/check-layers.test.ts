import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { tempTree } from './temp-tree.js';

type CheckLayers = (root: string) => string[];
type Layers = Record<string, string[]>;
const script = pathToFileURL(resolve(process.cwd(), 'scripts', 'check-layers.mjs')).href;
const { checkLayers, checkLayerDocs } = (await import(script)) as {
  checkLayers: CheckLayers;
  checkLayerDocs: (root: string, layers?: Layers) => string[];
};

const tree = (files: Record<string, string>): string => tempTree('check-layers.', files, ['cmd']);

test('a tree that follows the arrows, through barrels, has no violations', () => {
  const root = tree({
    'cmd/main.ts': "import { serve } from '../src/shim/index.js';\nserve();\n",
    'src/shim/index.ts': "export { serve } from './serve.js';\n",
    'src/sandbox/index.ts': "export { boot } from '../uvm/index.js';\n",
    'src/shim/serve.ts': "import { boot } from '../sandbox/index.js';\nimport type { Code } from '../errdefs/index.js';\nexport const serve = (): Code => boot();\n",
    'src/uvm/index.ts': "import { Port } from '../gcs/protocol/index.js';\nexport const boot = () => Port;\n",
    'src/gcs/protocol/index.ts': "export const Port = 1;\n",
    'src/errdefs/index.ts': 'export type Code = number;\n',
    'src/hcs/index.ts': "// import koffi from 'koffi' in a comment is not an import\nimport koffi from 'koffi';\nexport { koffi };\n",
  });
  assert.deepEqual(checkLayers(root), []);
});

test('a layer skip, an upward import, a non-barrel import, koffi outside hcs/transport and a type-only cycle are each reported', () => {
  const root = tree({
    'src/shim/index.ts': "export * from './a.js';\n",
    'src/shim/a.ts': "import { x } from '../hcs/index.js';\nimport type { B } from './b.js';\nexport const a = x;\nexport type A = B;\n",
    'src/shim/b.ts': "import type { A } from './a.js';\nexport type B = A | 1;\n",
    'src/hcs/index.ts': "export const x = 1;\nexport * from './up.js';\n",
    'src/hcs/up.ts': "import { y } from '../uvm/index.js';\nexport const up = y;\n",
    'src/uvm/index.ts': "import { z } from '../transport/inner.js';\nexport const y = z;\n",
    'src/transport/index.ts': "export * from './inner.js';\n",
    'src/transport/inner.ts': 'export const z = 2;\n',
    'src/gcs/index.ts': "import koffi from 'koffi';\nexport const k = koffi;\n",
  });
  const problems = checkLayers(root);
  const has = (re: RegExp): boolean => problems.some((p) => re.test(p));
  assert.ok(has(/src\/shim\/a\.ts: shim may not import hcs/), problems.join('\n'));
  assert.ok(has(/src\/hcs\/up\.ts: hcs may not import uvm/), problems.join('\n'));
  assert.ok(has(/src\/uvm\/index\.ts: imports \.\.\/transport\/inner\.js, not the transport barrel/), problems.join('\n'));
  assert.ok(has(/src\/gcs\/index\.ts: imports koffi/), problems.join('\n'));
  assert.ok(has(/import cycle: src\/shim\/a\.ts → src\/shim\/b\.ts/), problems.join('\n'));
  assert.equal(problems.length, 5, problems.join('\n'));
});

test('an import that resolves to nothing is reported, except the generated protobuf code', () => {
  const root = tree({
    'src/proto/index.ts': "export * from '../gen/protos.js';\n",
    'src/log/index.ts': "export * from './missing.js';\n",
  });
  assert.deepEqual(checkLayers(root), ['src/log/index.ts: cannot resolve ./missing.js']);
});

const DOC_LAYERS: Layers = { cmd: ['shim'], shim: ['log'], log: [] };
const README = [
  '# x', '', '## Architecture', '', '```', 'cmd/main.ts   entry', 'src/shim      top', 'src/log       leaf', '```', '',
  '| module | may import |', '|---|---|',
  '| `cmd` | `shim` |', '| `shim` | `log` |', '| `log` | nothing of the project |', '', '## Next', '| `other` | `x` |', '',
].join('\n');

test('the README table and the barrels\' "May import:" lines that state LAYERS exactly pass', () => {
  const root = tree({
    'README.md': README,
    'cmd/main.ts': '',
    'src/shim/index.ts': '/**\n * shim.\n * May import: log.\n */\n',
    'src/log/index.ts': '/**\n * May import: nothing of the project.\n */\n',
  });
  assert.deepEqual(checkLayerDocs(root, DOC_LAYERS), []);
});

test('a README row or a barrel line that differs from LAYERS, a missing one, a module or entry point missing from the tree, and a src folder without a row are each reported', () => {
  const root = tree({
    'README.md': README.replace('| `shim` | `log` |', '| `shim` | `log`, `errdefs` |').replace('| `log` | nothing of the project |\n', '')
      .replace('src/log       leaf\n', ''),
    'cmd/main.ts': '',
    'cmd/tool.ts': '',
    'src/shim/index.ts': '/**\n * May import: log, errdefs.\n */\n',
    'src/log/index.ts': '/** a leaf */\n',
    'src/extra/index.ts': 'export {};\n',
  });
  const problems = checkLayerDocs(root, DOC_LAYERS);
  assert.deepEqual(problems.sort(), [
    'README.md: shim may import log, errdefs, LAYERS says log',
    'README.md: the Architecture table has no row for log (may import: nothing of the project)',
    'README.md: the Architecture tree has no line for cmd/tool.ts',
    'README.md: the Architecture tree has no line for src/log',
    'src/extra: no row in scripts/check-layers.mjs LAYERS (a new module must state what it may import)',
    'src/log/index.ts: no "May import: …." line in its header (LAYERS: nothing of the project)',
    'src/shim/index.ts: says it may import log, errdefs, LAYERS says log',
  ], problems.join('\n'));
});

test('this repository follows the layering the README states (scripts/check-layers.mjs)', () => {
  assert.deepEqual(checkLayers(process.cwd()), []);
  assert.deepEqual(checkLayerDocs(process.cwd()), []);
});
