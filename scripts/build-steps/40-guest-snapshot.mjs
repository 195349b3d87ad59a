// Build step (after 20-bundle): a V8 start-up snapshot of the emulated VM's guest agent, made by the node that
// builds (`node --snapshot-blob … --build-snapshot`), so the emulator can start the agent already loaded:
//   <outDir>/bin/lcow-guest.cjs.snapshot        the blob: Node's bootstrap plus the agent's modules, evaluated
//                                               (src/guest/snapshot-main.ts bundled as CommonJS)
//   <outDir>/bin/lcow-guest.cjs.snapshot.json   what made it: Node's version and executable (size, mtime,
//                                               inode), and the size and mtime of the blob and of the agent's
//                                               bundle it stands for (src/hcs/emulator/guest-snapshot.ts
//                                               uses the blob only when all of them still match)
// A blob works only with the exact node binary that made it (a corrupt or foreign one aborts Node at start), so
// the emulator checks the record first and otherwise starts the plain bundle. Why: the pre-loaded agent's
// Node start and load is most of the emulated VM's boot on 2 cores (README, Performance).
//
// Nothing that must differ per agent may be captured: while the bundle's top level is evaluated here, reading
// the environment, files (random bytes come from /dev/urandom), the cwd, the pid or the clock throws and
// fails the build (the traps are lifted before Node serializes the heap). Math.random's state and V8's hash
// seed are not captured: V8 reseeds both in every process (Node refuses to write a blob V8 cannot rehash).
// Node 20 warns that some built-ins are not verified in snapshots (child_process, module): the bundle
// requires those on first use, in the deserialized process. Any output of the snapshot build (a warning)
// fails the build. Set LCOW_NO_GUEST_SNAPSHOT=1 (or LCOW_NO_BUNDLE=1) to skip it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const GUEST_SNAPSHOT_FORMAT = 'containerd-shim-lcow-v1/guest-snapshot@1';
/** Built-ins Node 20 does not support in a user-land snapshot ("not yet fully verified"): loaded on first use. */
export const LAZY_BUILTINS = ['node:child_process', 'child_process', 'node:module', 'module'];

// Top of the snapshot entry (the builder runs it as a function of require, __filename, __dirname): `require`
// returns a stand-in for the lazy built-ins (the real module on its first property read), and the traps.
const BANNER = `require = ((real) => {
  const lazy = new Set(${JSON.stringify(LAZY_BUILTINS)});
  return (id) => {
    if (!lazy.has(id)) return real(id);
    let mod;
    return new Proxy({}, { get: (_, key) => (mod ??= real(id))[key] });
  };
})(require);
const __lcowLiftTraps = ((fs) => {
  const trapped = [];
  const trap = (obj, key, what) => {
    const own = Object.getOwnPropertyDescriptor(obj, key);
    trapped.push(() => Object.defineProperty(obj, key, own));
    Object.defineProperty(obj, key, { configurable: true, get() {
      throw new Error('lcow guest snapshot: ' + what + ' read while the bundle is evaluated at build time (it would be captured, the same in every agent)');
    } });
  };
  for (const k of ['openSync', 'readFileSync', 'readSync', 'statSync', 'lstatSync', 'readdirSync', 'existsSync', 'accessSync', 'realpathSync']) trap(fs, k, 'fs.' + k);
  trap(process, 'env', 'process.env');
  trap(process, 'pid', 'process.pid');
  trap(process, 'cwd', 'process.cwd');
  trap(process, 'hrtime', 'process.hrtime');
  trap(Date, 'now', 'Date.now');
  trap(Math, 'random', 'Math.random');
  return () => { for (const lift of trapped.reverse()) lift(); };
})(require('node:fs'));`;
const FOOTER = '__lcowLiftTraps();';

/** The snapshot entry as one CommonJS file (from the compiled tree), with the banner and footer above. */
export async function bundleEntry(entryJs, outFile, absWorkingDir) {
  const { build } = await import('esbuild');
  await build({
    entryPoints: [entryJs], outfile: outFile, bundle: true, platform: 'node', format: 'cjs', target: 'node20',
    banner: { js: BANNER }, footer: { js: FOOTER }, legalComments: 'none', logLevel: 'warning', absWorkingDir,
  });
}

/**
 * Makes `blob` from the CommonJS `entryFile` with this node (clean environment, cwd a temporary directory):
 * throws with Node's output when it fails or says anything (a warning about a built-in, a trap).
 */
export function buildSnapshot(entryFile, blob, cwd) {
  const env = { ...process.env, NODE_OPTIONS: '' };
  delete env.NODE_EXTRA_CA_CERTS;
  const r = spawnSync(process.execPath, ['--snapshot-blob', blob, '--build-snapshot', entryFile], { cwd, env, encoding: 'utf8' });
  const said = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
  if (r.status !== 0 || said !== '') {
    rmSync(blob, { force: true });
    throw new Error(`guest snapshot: node --build-snapshot ${entryFile} ${r.status === 0 ? 'warned' : `failed (status ${r.status}, signal ${r.signal})`}:\n${said}`);
  }
}

const fileKey = (path) => {
  const st = statSync(path);
  return { size: st.size, mtimeMs: st.mtimeMs };
};

export default async function guestSnapshot(outDir, _rootDir) {
  const bin = join(outDir, 'bin');
  const guest = join(bin, 'lcow-guest.cjs');
  const blob = `${guest}.snapshot`;
  const record = `${blob}.json`;
  // A rebuild replaces both; the record first, so no moment has a record naming another blob.
  rmSync(record, { force: true });
  rmSync(blob, { force: true });
  if (process.env.LCOW_NO_BUNDLE === '1' || process.env.LCOW_NO_GUEST_SNAPSHOT === '1' || !existsSync(guest)) return;
  // Beside the blob, not in the system's temp dir: renaming the blob into place must not cross file systems
  // (/tmp is often a tmpfs; rename would fail with EXDEV).
  const tmp = mkdtempSync(join(bin, '.lcow-guest-snapshot-'));
  try {
    const entry = join(tmp, 'snapshot-entry.cjs');
    await bundleEntry(join(outDir, 'src', 'guest', 'snapshot-main.js'), entry, outDir);
    buildSnapshot(entry, join(tmp, 'blob'), tmp);
    // The blob must start the agent: with no arguments it runs main's usage error (status 2, "gcs: …").
    const check = spawnSync(process.execPath, ['--snapshot-blob', join(tmp, 'blob'), '--no-warnings', guest], { cwd: tmp, encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
    if (check.status !== 2 || !check.stderr.startsWith('gcs: ')) {
      throw new Error(`guest snapshot: the blob did not run the agent (status ${check.status}, signal ${check.signal}): ${check.stderr}`);
    }
    renameSync(join(tmp, 'blob'), blob);
    const node = statSync(process.execPath);
    const made = {
      format: GUEST_SNAPSHOT_FORMAT,
      node: { version: process.version, execPath: process.execPath, size: node.size, mtimeMs: node.mtimeMs, ino: node.ino },
      entry: fileKey(guest),
      blob: fileKey(blob),
    };
    writeFileSync(`${record}.tmp`, JSON.stringify(made, null, 2) + '\n');
    renameSync(`${record}.tmp`, record);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
