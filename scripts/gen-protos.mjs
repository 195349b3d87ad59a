#!/usr/bin/env node
// Generates src/gen/protos.js (static protobufjs code, ES module) and src/gen/protos.d.ts from protos/**.proto.
// The output is never hand-edited and not committed.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const protoDir = join(root, 'protos');
const genDir = join(root, 'src', 'gen');
const bin = (name) => join(root, 'node_modules', 'protobufjs-cli', 'bin', name);

function walk(dir) {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : n.endsWith('.proto') ? [p] : [];
  });
}

const files = walk(protoDir).sort();
if (files.length === 0) process.exit(0);
mkdirSync(genDir, { recursive: true });
const js = join(genDir, 'protos.js');
execFileSync(process.execPath, [bin('pbjs'), '-t', 'static-module', '-w', 'es6', '--no-create', '--no-verify',
  '--no-convert', '--no-delimited', '--no-typeurl', '--no-service', '--no-beautify', '--force-number', '--keep-case', '-p', protoDir, '-o', js, ...files], { stdio: 'inherit', cwd: protoDir });
// ES modules need the file extension on a package subpath.
// 64-bit fields are JavaScript numbers here (src/proto turns Long off): make their defaults plain 0 too,
// since prototype defaults are computed when this module loads, before src/proto's body runs.
writeFileSync(js, lazyMembers(readFileSync(js, 'utf8')
  .replace(/from "protobufjs\/minimal"/, 'from "protobufjs/minimal.js"')
  .replace(/\$util\.Long \? \$util\.Long\.fromBits\(0,0,(true|false)\) : 0/g, '0')));
execFileSync(process.execPath, [bin('pbts'), '--no-comments', '-o', join(genDir, 'protos.d.ts'), js], { stdio: 'inherit' });

/**
 * Every nested namespace, message and enum is made on first use instead of when the module loads (issue 17,
 * daemon memory): pbjs writes each as `parent.Name = (function() { ... })();`, which this turns into a getter
 * on `parent` that runs the same function once and replaces itself with the value. A standalone container's
 * daemon then never makes the Sandbox API, shimdiag, bootstrap or cgroups v1 types, nor the Task API messages
 * it is never sent (~165 KB of objects for the namespaces alone). Generated code refers to other types
 * through `$root.…` when it runs, so a type is made when it is first encoded, decoded or named. The top-level
 * exports stay as pbjs writes them. The opening and closing lines are matched by indentation, as pbjs writes them;
 * any other layout fails the build.
 */
function lazyMembers(source) {
  const open = /^(\s*)([\w$]+)\.([\w$]+) = \(function\(\) \{$/;
  const lines = source.split('\n');
  const stack = [];
  let made = 0;
  for (let i = 0; i < lines.length; i++) {
    const m = open.exec(lines[i]);
    if (m) {
      lines[i] = `${m[1]}$lazy(${m[2]}, "${m[3]}", function() {`;
      stack.push(m[1]);
      made++;
    } else if (stack.length > 0 && lines[i] === `${stack[stack.length - 1]}})();`) {
      lines[i] = `${stack.pop()}});`;
    }
  }
  if (stack.length > 0 || made === 0) throw new Error(`gen-protos: unexpected pbjs layout (${made} members, ${stack.length} unclosed)`);
  const root = 'const $root = $protobuf.roots["default"] || ($protobuf.roots["default"] = {});';
  if (!source.includes(root)) throw new Error('gen-protos: unexpected pbjs layout (no $root)');
  const lazy = [
    '',
    '// A member made by `make` on first read, then kept as a plain property (scripts/gen-protos.mjs: lazyMembers).',
    'const $lazy = (o, k, make) => $Object.defineProperty(o, k, { configurable: true, enumerable: true, get() {',
    '    const v = make();',
    '    $Object.defineProperty(o, k, { value: v, writable: true, configurable: true, enumerable: true });',
    '    return v;',
    '}, set(v) { $Object.defineProperty(o, k, { value: v, writable: true, configurable: true, enumerable: true }); } });',
  ].join('\n');
  return lines.join('\n').replace(root, root + lazy);
}
