#!/usr/bin/env node
// Checks the layering the README states, on the TypeScript sources (cmd/, src/), without building:
//   1. which top-level module (src/<module>) may import which (LAYERS below: the README's arrows);
//   2. another module is imported only through its barrel (src/<module>/index.ts);
//   3. no import cycle between files, type-only imports included (a type cycle is still a design cycle);
//   4. koffi is imported only in src/hcs and src/transport;
//   5. the docs say the same (checkLayerDocs): every folder of src/ has a row in LAYERS and a line in the README's
//      Architecture tree (as has every entry point in cmd/), and the README's "may import" table and each
//      barrel's `May import:` line state exactly that row.
// Prints every violation and exits 1 if there is one. Usage: node scripts/check-layers.mjs [repo root]
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/**
 * May-import table, one row per module (besides itself). Arrows run one way:
 *   cmd → shim → sandbox → {uvm, gcs} → {hcs, transport}
 * hcs may use transport (the emulator maps hvsocket ports onto unix sockets through it); transport is the one
 * platform seam, so the layers above may reach it for their own sockets and pipes. ttrpc, log, errdefs, proto are
 * leaves below everything (ttrpc uses proto's status messages), and so is async (settlesWithin and the rejection
 * markers), which every layer above the leaves may import. guest shares only the GCS codec (gcs/protocol) and has its
 * own logger (it never imports src/log);
 * uvm takes the vsock port numbers from it too, as hcsshim's internal/uvm takes them from internal/gcs/prot.
 * guid (Windows GUIDs, text ↔ bytes) is a leaf for Hyper-V socket addresses and VHDX. vhd (VHD/VHDX formats)
 * sits on it: the emulator reads disks with it, the shim's create-scratch writes one, and
 * tar2ext4 (OCI layers → layer.vhd, used by cmd's lcow-layers tool) appends VHD footers with it.
 * random (the OS's random bytes and v4 UUIDs, /dev/urandom on Linux so the daemon never loads node:crypto) is a
 * leaf under everything that makes ids, nonces or the VM's entropy.
 * reclaim (the `serve` daemon's idle memory reclaim through its Node-API addon) is a leaf only the shim uses.
 */
export const LAYERS = {
  cmd: ['shim', 'tar2ext4', 'log', 'errdefs'],
  shim: ['async', 'sandbox', 'transport', 'ttrpc', 'proto', 'vhd', 'reclaim', 'log', 'errdefs'],
  sandbox: ['async', 'uvm', 'gcs', 'hcs', 'transport', 'guid', 'log', 'errdefs'],
  uvm: ['async', 'hcs', 'gcs/protocol', 'transport', 'random', 'log', 'errdefs'],
  gcs: ['async', 'transport', 'random', 'log', 'errdefs'],
  hcs: ['async', 'transport', 'vhd', 'guid', 'random', 'log', 'errdefs'],
  transport: ['async', 'guid', 'log', 'errdefs'],
  guest: ['async', 'gcs/protocol', 'errdefs'],
  ttrpc: ['async', 'proto', 'log', 'errdefs'],
  log: [],
  async: [],
  errdefs: [],
  proto: [],
  vhd: ['async', 'guid', 'random'],
  guid: ['random', 'errdefs'],
  random: ['async', 'errdefs'],
  tar2ext4: ['vhd', 'errdefs'],
  reclaim: [],
};
const KOFFI_ALLOWED = ['hcs', 'transport'];

const IMPORT_RE = /(?:^|[\s;])(?:import|export)\s+(?:type\s+)?(?:[\w*{}\s,$]+\s+from\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

function listTs(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) { if (name !== 'gen' && name !== 'node_modules') out.push(...listTs(p)); }
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** The module a file belongs to: 'cmd', or the first folder under src/ ('gcs/protocol' is reported as gcs). */
function moduleOf(root, file) {
  const parts = relative(root, file).split(sep);
  if (parts[0] === 'cmd') return 'cmd';
  return parts[0] === 'src' && parts.length > 2 ? parts[1] : undefined;
}

function stripComments(text) {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

export function checkLayers(root) {
  const files = [...listTs(join(root, 'cmd')), ...listTs(join(root, 'src'))];
  const problems = new Set();
  const graph = new Map();
  for (const file of files) {
    const from = moduleOf(root, file);
    const rel = relative(root, file);
    const edges = [];
    const text = stripComments(readFileSync(file, 'utf8'));
    for (const m of text.matchAll(IMPORT_RE)) {
      const spec = m[1] ?? m[2];
      if (spec === 'koffi' && !KOFFI_ALLOWED.includes(from)) problems.add(`${rel}: imports koffi (only src/hcs and src/transport may)`);
      if (!spec.startsWith('.')) continue;
      const target = resolve(dirname(file), spec).replace(/\.js$/, '.ts');
      const targetTs = existsSync(target) ? target : join(target, 'index.ts');
      if (!existsSync(targetTs)) {
        // Generated at build time (src/gen: protobufjs static code) and not there before the first build.
        if (!relative(root, target).startsWith(`src${sep}gen${sep}`)) problems.add(`${rel}: cannot resolve ${spec}`);
        continue;
      }
      edges.push(targetTs);
      const to = moduleOf(root, targetTs);
      if (!from || !to || to === from) continue;
      const sub = relative(join(root, 'src', to), dirname(targetTs)).split(sep).join('/');
      const allowed = LAYERS[from] ?? [];
      const ok = allowed.includes(to) || (sub && allowed.includes(`${to}/${sub}`));
      if (!ok) problems.add(`${rel}: ${from} may not import ${to}${sub ? `/${sub}` : ''} (${spec})`);
      if (!targetTs.endsWith(`${sep}index.ts`)) problems.add(`${rel}: imports ${spec}, not the ${to} barrel (index.ts)`);
    }
    graph.set(file, edges);
  }
  for (const cycle of findCycles(graph)) {
    problems.add(`import cycle: ${cycle.map((f) => relative(root, f)).join(' → ')}`);
  }
  return [...problems];
}

const NOTHING = 'nothing of the project';
const sameSet = (a, b) => a.length === b.length && a.every((x) => b.includes(x));
const listText = (mods) => (mods.length === 0 ? NOTHING : mods.join(', '));

/** The README's table under "## Architecture": rows "| `module` | `a`, `b` |" (or "nothing of the project"). */
export function readmeLayers(readme) {
  const section = readme.split(/^## /m).find((s) => s.startsWith('Architecture')) ?? '';
  const rows = {};
  for (const m of section.matchAll(/^\| `([\w/]+)` \| ([^|]*?) \|$/gm)) {
    rows[m[1]] = m[2].trim() === NOTHING ? [] : m[2].split(',').map((s) => s.trim().replace(/^`|`$/g, ''));
  }
  return rows;
}

/** Checks that every src/ folder has a LAYERS row and that the README and the barrels state the rows exactly. */
export function checkLayerDocs(root, layers = LAYERS) {
  const problems = [];
  for (const name of readdirSync(join(root, 'src'))) {
    if (name !== 'gen' && statSync(join(root, 'src', name)).isDirectory() && !(name in layers)) {
      problems.push(`src/${name}: no row in scripts/check-layers.mjs LAYERS (a new module must state what it may import)`);
    }
  }
  const readmeText = existsSync(join(root, 'README.md')) ? readFileSync(join(root, 'README.md'), 'utf8') : '';
  const readme = readmeLayers(readmeText);
  const tree = /^```\n([\s\S]*?)^```/m.exec(readmeText.split(/^## /m).find((s) => s.startsWith('Architecture')) ?? '')?.[1] ?? '';
  const entries = [
    ...Object.keys(layers).filter((m) => m !== 'cmd').map((m) => `src/${m}`),
    ...(existsSync(join(root, 'cmd')) ? readdirSync(join(root, 'cmd')).filter((f) => f.endsWith('.ts')).map((f) => `cmd/${f}`) : []),
  ];
  for (const e of entries) {
    if (!new RegExp(`^${e.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s`, 'm').test(tree)) problems.push(`README.md: the Architecture tree has no line for ${e}`);
  }
  for (const [mod, allowed] of Object.entries(layers)) {
    const row = readme[mod];
    if (row === undefined) problems.push(`README.md: the Architecture table has no row for ${mod} (may import: ${listText(allowed)})`);
    else if (!sameSet(row, allowed)) problems.push(`README.md: ${mod} may import ${listText(row)}, LAYERS says ${listText(allowed)}`);
    if (mod === 'cmd') continue; // no barrel
    const barrel = join(root, 'src', mod, 'index.ts');
    if (!existsSync(barrel)) { problems.push(`src/${mod}/index.ts: missing (LAYERS has a row for ${mod})`); continue; }
    const stated = /^\s*\* May import: ([^.]*)\./m.exec(readFileSync(barrel, 'utf8'))?.[1];
    if (stated === undefined) { problems.push(`src/${mod}/index.ts: no "May import: …." line in its header (LAYERS: ${listText(allowed)})`); continue; }
    const list = stated.trim() === NOTHING ? [] : stated.split(',').map((s) => s.trim());
    if (!sameSet(list, allowed)) problems.push(`src/${mod}/index.ts: says it may import ${listText(list)}, LAYERS says ${listText(allowed)}`);
  }
  for (const mod of Object.keys(readme)) if (!(mod in layers)) problems.push(`README.md: table row for ${mod}, which LAYERS does not have`);
  return problems;
}

/** Strongly connected components with more than one file (or a self-import), by Tarjan's algorithm. */
function findCycles(graph) {
  let index = 0;
  const idx = new Map(), low = new Map(), onStack = new Set(), stack = [], cycles = [];
  const visit = (v) => {
    idx.set(v, index); low.set(v, index); index += 1; stack.push(v); onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) { visit(w); low.set(v, Math.min(low.get(v), low.get(w))); }
      else if (onStack.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) === idx.get(v)) {
      const scc = [];
      let w;
      do { w = stack.pop(); onStack.delete(w); scc.push(w); } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return cycles;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const root = resolve(process.argv[2] ?? join(dirname(new URL(import.meta.url).pathname), '..'));
  const problems = [...checkLayers(root), ...checkLayerDocs(root)];
  for (const p of problems) console.error(`check-layers: ${p}`);
  if (problems.length > 0) { console.error(`check-layers: ${problems.length} violation(s)`); process.exit(1); }
  console.error('check-layers: layering and barrels as the README states, no import cycles');
}
