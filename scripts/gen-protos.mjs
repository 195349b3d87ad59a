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
writeFileSync(js, readFileSync(js, 'utf8')
  .replace(/from "protobufjs\/minimal"/, 'from "protobufjs/minimal.js"')
  .replace(/\$util\.Long \? \$util\.Long\.fromBits\(0,0,(true|false)\) : 0/g, '0'));
execFileSync(process.execPath, [bin('pbts'), '--no-comments', '-o', join(genDir, 'protos.d.ts'), js], { stdio: 'inherit' });
