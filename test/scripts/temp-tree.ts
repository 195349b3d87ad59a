import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after } from 'node:test';

const roots: string[] = [];
after(() => { for (const r of roots) rmSync(r, { recursive: true, force: true }); });

/** A temporary tree with `files` (path → text) and the empty `dirs`; removed after the test file. */
export function tempTree(prefix: string, files: Record<string, string>, dirs: readonly string[] = []): string {
  const root = mkdtempSync(join(tmpdir(), prefix));
  roots.push(root);
  for (const d of dirs) mkdirSync(join(root, d), { recursive: true });
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}
