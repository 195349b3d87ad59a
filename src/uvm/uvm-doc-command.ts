import { readFile } from '../async/index.js';
import { availableParallelism } from 'node:os';
import type { Writable } from 'node:stream';
import { ShimError, invalidArgument } from '../errdefs/index.js';
import { toHcsJson, type HostInfo } from '../hcs/index.js';
import { newDefaultOptionsLCOW, updateBootFilesPath } from './default-options.js';
import { buildLCOWDocument } from './document.js';
import { localHostFacts } from './host-facts.js';
import { parseOptionsJson } from './options-json.js';
import type { OptionsLCOW } from './options.js';

/**
 * `containerd-shim-lcow-v1 uvm-doc`: prints the HCS document CreateLCOW would submit, creating nothing.
 *
 *   uvm-doc [--options FILE] [--boot-files-path DIR] [--os-build N] [--host-processors N] [--log-level L]
 *
 * Flags take `--name value`, `--name=value` or Go's single-dash forms. Exit codes: 0 printed, 1 bad
 * options (file unreadable, not JSON, unknown key, wrong type, rejected by verifyOptions), 2 bad usage.
 */

/** Build assumed for the dry run when neither --os-build nor a host-info provider is given. */
export const DRY_RUN_DEFAULT_OS_BUILD = 20348;

export interface UvmDocIo {
  stdout: Writable;
  stderr: Writable;
}

export interface UvmDocDeps {
  /** Facts of the real host (the shim passes its HcsApi's hostInfo); used when --os-build is absent. */
  hostInfo?: () => Promise<HostInfo>;
}

const USAGE =
  'usage: containerd-shim-lcow-v1 uvm-doc [--options FILE] [--boot-files-path DIR] [--os-build N] ' +
  '[--host-processors N] [--log-level L]\n';

const FLAGS = ['options', 'boot-files-path', 'os-build', 'host-processors', 'log-level'] as const;
type Flag = (typeof FLAGS)[number];
const LOG_LEVELS = new Set(['panic', 'fatal', 'error', 'warn', 'warning', 'info', 'debug', 'trace']);

class UsageError extends Error {}

/** Parses argv (an optional leading `uvm-doc` is skipped). */
function parseArgs(argv: string[]): Partial<Record<Flag | 'help', string>> {
  const out: Partial<Record<Flag | 'help', string>> = {};
  const args = argv[0] === 'uvm-doc' ? argv.slice(1) : argv;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    const m = /^--?([a-z-]+)(?:=(.*))?$/s.exec(arg);
    if (m === null) throw new UsageError(`unexpected argument ${JSON.stringify(arg)}`);
    const name = m[1] ?? '';
    if (name === 'h' || name === 'help') {
      out.help = '';
      continue;
    }
    if (!(FLAGS as readonly string[]).includes(name)) throw new UsageError(`unknown flag -${name}`);
    let value = m[2];
    if (value === undefined) {
      value = args[++i];
      if (value === undefined) throw new UsageError(`flag needs an argument: -${name}`);
    }
    out[name as Flag] = value;
  }
  return out;
}

function positiveInt(flag: string, text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < 1) {
    throw new UsageError(`invalid value ${JSON.stringify(text)} for flag -${flag}: want a positive integer`);
  }
  return n;
}

async function resolveHost(flags: Partial<Record<Flag, string>>, deps: UvmDocDeps): Promise<HostInfo> {
  let info: HostInfo;
  if (flags['os-build'] !== undefined) {
    // An explicit build means "a Windows host": paths are joined the Windows way.
    info = { osBuild: positiveInt('os-build', flags['os-build']), pathFlavour: 'windows', logicalProcessors: availableParallelism(), arch: 'amd64' };
  } else if (deps.hostInfo !== undefined) {
    info = await deps.hostInfo();
  } else {
    info = { osBuild: DRY_RUN_DEFAULT_OS_BUILD, pathFlavour: 'posix', logicalProcessors: availableParallelism(), arch: 'amd64' };
  }
  if (flags['host-processors'] !== undefined) {
    info = { ...info, logicalProcessors: positiveInt('host-processors', flags['host-processors']) };
  }
  return info;
}

/** Runs the dry run; never throws, returns the exit code. */
export async function uvmDocCommand(argv: string[], io: UvmDocIo, deps: UvmDocDeps = {}): Promise<number> {
  const warn = (text: string): void => void io.stderr.write(`uvm-doc: warning: ${text}\n`);
  try {
    const flags = parseArgs(argv);
    if (flags.help !== undefined) {
      io.stdout.write(USAGE);
      return 0;
    }
    const level = flags['log-level'];
    if (level !== undefined && !LOG_LEVELS.has(level.toLowerCase())) {
      throw new UsageError(`invalid value ${JSON.stringify(level)} for flag -log-level`);
    }
    let overrides: Partial<OptionsLCOW> = {};
    if (flags.options !== undefined) {
      let text: string;
      try {
        text = await readFile(flags.options, 'utf8');
      } catch (err) {
        throw invalidArgument(`cannot read options file ${JSON.stringify(flags.options)}: ${(err as Error).message}`, err);
      }
      overrides = parseOptionsJson(text, `options file ${JSON.stringify(flags.options)}`);
    }
    const host = localHostFacts(await resolveHost(flags, deps));
    const opts = newDefaultOptionsLCOW(overrides.ID ?? '', overrides.Owner ?? '', host, level ?? 'info');
    const bootFiles = flags['boot-files-path'] ?? overrides.BootFilesPath;
    if (bootFiles !== undefined) updateBootFilesPath(opts, bootFiles, host);
    const { BootFilesPath: _ignored, ...rest } = overrides;
    Object.assign(opts, rest);

    const built = buildLCOWDocument(opts, host.info);
    for (const w of built.warnings) warn(`${w.message} ${JSON.stringify(w.fields)}`);
    warn(`dry run: boot files are not checked, kernel '${built.kernelPath}' and root filesystem '${built.rootfsPath}' need not exist`);
    io.stdout.write(`${toHcsJson(built.document)}\n`);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`uvm-doc: ${err.message}\n${USAGE}`);
      return 2;
    }
    io.stderr.write(`uvm-doc: ${err instanceof ShimError || err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
