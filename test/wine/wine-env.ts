/**
 * Running Windows programs under Wine 8 for the Wine tier:
 * - a private WINEPREFIX (env LCOW_WINE_PREFIX, default ~/.cache/containerd-shim-lcow-v1/wine-prefix-<checkout>), made
 *   once with `wineboot --init` and `winecfg -v win10` (node.exe needs Windows 8.1 or later: exit 216 without);
 * - WINEDEBUG=-all; every program's stdin/stdout/stderr are /dev/null or files, never a Unix pipe (Wine's
 *   node.exe fails on those with EBADF);
 * - the computecore double built as a PE DLL with mingw-w64, and the driver (driver.ts) bundled into one
 *   CommonJS file run by the official Windows node.exe with koffi.node beside it.
 * Wine starts slowly on a loaded machine: generous timeouts, no timing assertions.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { NODE_WIN_EXE, PACKAGE_STAGE } from '../package/ensure-package.js';

/**
 * One prefix per checkout: `wineserver -k` at the end of a run ends every process of its prefix, so two
 * checkouts testing at once on one machine must not share one.
 */
export const WINE_PREFIX =
  process.env['LCOW_WINE_PREFIX'] ||
  join(homedir(), '.cache', 'containerd-shim-lcow-v1', `wine-prefix-${createHash('sha256').update(resolve('.')).digest('hex').slice(0, 12)}`);
/** Generous: a cold Wine start is ~0.7 s idle, many times that on a loaded 2-core machine. */
export const WINE_TIMEOUT_MS = 120_000;

export function wineEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, WINEPREFIX: WINE_PREFIX, WINEDEBUG: '-all', WINEDLLOVERRIDES: 'mscoree,mshtml=', ...extra };
  delete env['NODE_OPTIONS'];
  delete env['NODE_EXTRA_CA_CERTS'];
  return env;
}

/** A Linux path as Wine's Z: drive sees it. */
export function winPath(p: string): string {
  return `Z:${resolve(p).replace(/\//g, '\\')}`;
}

export interface WineResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stdoutBytes: Buffer;
  readonly stderr: string;
}

/** Runs `wine <args>` with stdio as files in `scratch`; resolves once it exits (killed after timeoutMs). */
export interface RunOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly timeoutMs?: number;
  /** A file for stdin (default /dev/null). */
  readonly stdinFile?: string;
}

export function runWine(scratch: string, args: readonly string[], opts: RunOptions = {}): Promise<WineResult> {
  mkdirSync(scratch, { recursive: true });
  const tag = `${Date.now()}-${Math.random().toString(16).slice(2)}`;
  const outPath = join(scratch, `wine-${tag}.out`);
  const errPath = join(scratch, `wine-${tag}.err`);
  const [nul, out, err] = [openSync(opts.stdinFile ?? '/dev/null', 'r'), openSync(outPath, 'w'), openSync(errPath, 'w')];
  const child = spawn('wine', [...args], { cwd: opts.cwd ?? scratch, env: wineEnv(opts.env), stdio: [nul, out, err] });
  for (const fd of [nul, out, err]) closeSync(fd);
  return new Promise((resolveRun, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? WINE_TIMEOUT_MS);
    child.once('error', (e) => (clearTimeout(timer), reject(e)));
    child.once('exit', (code) => {
      clearTimeout(timer);
      const stdoutBytes = readFileSync(outPath);
      resolveRun({ code, stdout: stdoutBytes.toString('utf8'), stdoutBytes, stderr: readFileSync(errPath, 'utf8') });
    });
  });
}

/** Creates the prefix once (about 10 s); later runs reuse it. */
export async function ensureWinePrefix(scratch: string): Promise<void> {
  const marker = join(WINE_PREFIX, '.lcow-win10');
  if (existsSync(marker)) return;
  mkdirSync(WINE_PREFIX, { recursive: true });
  for (const args of [['wineboot', '--init'], ['winecfg', '-v', 'win10']]) {
    const r = await runWine(scratch, args, { timeoutMs: 300_000 });
    if (r.code !== 0) throw new Error(`wine ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  }
  writeFileSync(marker, 'win10\n');
}

/** Ends every process of the prefix (a serve left behind included) and the wineserver. */
export function killWine(): void {
  try {
    execFileSync('wineserver', ['-k'], { env: wineEnv(), stdio: 'ignore', timeout: 60_000 });
  } catch {
    // no wineserver running: nothing to end
  }
}

/** Builds test/fixtures/computecore-double.c as a PE DLL (mingw-w64, no runtime DLLs needed). */
export function buildDoubleDll(dir: string): string {
  const dll = join(dir, 'computecore-double.dll');
  execFileSync('x86_64-w64-mingw32-gcc', ['-shared', '-O1', '-o', dll, resolve('test/fixtures/computecore-double.c'),
    '-static-libgcc', '-Wl,-Bstatic', '-lpthread', '-Wl,--exclude-libs,ALL'], { stdio: 'inherit' });
  return dll;
}

export interface Driver {
  /** node.exe (a copy of the official one) with koffi.node beside it. */
  readonly nodeExe: string;
  readonly script: string;
}

/** Bundles driver.ts into `dir`/driver.cjs and lays out node.exe + koffi.node beside it. */
export async function buildDriver(dir: string): Promise<Driver> {
  mkdirSync(dir, { recursive: true });
  const root = resolve('.');
  const { build } = (await import('esbuild')) as typeof import('esbuild');
  const { koffiBesideExe } = (await import(pathToFileURL(join(root, 'scripts/package/koffi-beside-exe.mjs')).href)) as {
    koffiBesideExe(root: string): import('esbuild').Plugin;
  };
  const script = join(dir, 'driver.cjs');
  await build({
    entryPoints: [join(root, 'test', 'wine', 'driver.ts')],
    outfile: script,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    plugins: [koffiBesideExe(root)],
    define: { 'import.meta.url': '__lcowImportMetaUrl' },
    banner: { js: "const __lcowImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
    logLevel: 'warning',
    absWorkingDir: root,
  });
  const nodeExe = join(dir, 'node.exe');
  copyFileSync(NODE_WIN_EXE, nodeExe);
  copyFileSync(join(PACKAGE_STAGE, 'koffi.node'), join(dir, 'koffi.node'));
  return { nodeExe, script };
}

/**
 * Runs one driver command under Wine and parses its JSON line (from stdout, or from the result file when
 * stdout came back empty). A run that left no result at all (Wine lost the process before it reported, seen
 * once on a loaded machine) is retried once, saying so on stderr; a second silent run fails.
 */
export async function runDriver(scratch: string, d: Driver, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Record<string, unknown>> {
  for (let attempt = 1; ; attempt++) {
    const resultFile = join(scratch, `driver-${Date.now()}-${Math.random().toString(16).slice(2)}.json`);
    const r = await runWine(scratch, [d.nodeExe, d.script, ...args], { env: { LCOW_WINE_DRIVER: '1', LCOW_WINE_DRIVER_OUT: winPath(resultFile), ...env } });
    const text = r.stdout.trim() !== '' ? r.stdout : existsSync(resultFile) ? readFileSync(resultFile, 'utf8') : '';
    const line = text.trim().split('\n').at(-1) ?? '';
    if (line === '' && attempt === 1) {
      process.stderr.write(`wine: driver ${args.join(' ')} exited ${r.code} without a result (stderr: ${r.stderr.trim()}); retrying once\n`);
      continue;
    }
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw new Error(`driver ${args.join(' ')} exited ${r.code} without a result: stdout=${r.stdout} stderr=${r.stderr}`);
    }
    if (r.code !== 0 || parsed['error'] !== undefined) throw new Error(`driver ${args.join(' ')} failed (exit ${r.code}): ${String(parsed['error'])}\n${r.stderr}`);
    return parsed;
  }
}
