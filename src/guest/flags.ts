/**
 * Command line of the guest agent, as Microsoft's /bin/gcs takes it (Go `flag` syntax: `-name value`,
 * `-name=value`, `--name`, booleans bare or `=true|false`):
 *   -v4                        required: serve protocol v4 (without it the real GCS has no handlers)
 *   -log-format json|text      default text
 *   -loglevel trace|debug|info|warning|error   default info
 *   -scrub-logs[=true|false]   default true (the real GCS scrubs env/spec out of its logs; ours never logs them)
 *   -disable-time-sync         the real GCS then starts no chronyd; the emulator has no time sync to stop
 *   -core-dump-location PATH   the real GCS sets kernel.core_pattern; the emulator (the host's kernel) records it
 * and the rest of the real GCS's flag set (v0.12.0-rc.3 cmd/gcs/main.go), accepted and validated like Go's flag
 * package does, with no effect in the emulated VM (no kmsg, log file or memory cgroup of the GCS to set up):
 * -use-inouterr (bool); -logfile, -initial-policy-stance allow|deny (string); -kmsgLogLevel (uint);
 * -root-mem-reserve-bytes, -gcs-mem-limit-bytes (uint64). Any other flag is a usage error, as in Go.
 * Environment: LCOW_GUEST_VM_DIR (required), LCOW_GUEST_ENTROPY_PORT (optional, decimal vsock port).
 */
import type { GuestLogFormat, GuestLogLevel } from './log.js';

export interface GuestOptions {
  v4: boolean;
  scrubLogs: boolean;
  disableTimeSync: boolean;
  coreDumpLocation: string;
  logFormat: GuestLogFormat;
  logLevel: GuestLogLevel;
  /** The other real GCS flags that were given (name → value as written); present only if any was. */
  accepted?: Record<string, string>;
}

/** The rest of the real GCS's flags, accepted without effect in the emulated VM, by kind. */
const ACCEPTED: Readonly<Record<string, 'bool' | 'string' | 'uint' | 'uint64' | 'stance'>> = {
  'use-inouterr': 'bool',
  logfile: 'string',
  'initial-policy-stance': 'stance',
  kmsgLogLevel: 'uint',
  'root-mem-reserve-bytes': 'uint64',
  'gcs-mem-limit-bytes': 'uint64',
};

export interface GuestEnv {
  vmDir: string;
  entropyPort: number | undefined;
}

/** A usage error: main prints it and exits with status 2, as Go's flag package does. */
export class UsageError extends Error {
  override name = 'UsageError';
}

const LEVELS: readonly GuestLogLevel[] = ['trace', 'debug', 'info', 'warning', 'error'];
const LEVEL_ALIASES: Readonly<Record<string, GuestLogLevel>> = { warn: 'warning', panic: 'error', fatal: 'error' };

export function parseGuestArgs(argv: readonly string[]): GuestOptions {
  const opts: GuestOptions = { v4: false, logFormat: 'text', logLevel: 'info', scrubLogs: true, disableTimeSync: false, coreDumpLocation: '' };
  const boolFlag = (name: string, inline: string | undefined): boolean => {
    if (inline !== undefined && inline !== 'true' && inline !== 'false') throw new UsageError(`invalid boolean value ${JSON.stringify(inline)} for -${name}`);
    return inline !== 'false';
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('-') || arg === '-' || arg === '--') throw new UsageError(`unexpected argument ${JSON.stringify(arg)}`);
    const body = arg.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    const inline = eq >= 0 ? body.slice(eq + 1) : undefined;
    const value = (): string => {
      if (inline !== undefined) return inline;
      const next = argv[++i];
      if (next === undefined) throw new UsageError(`flag needs an argument: -${name}`);
      return next;
    };
    switch (name) {
      case 'v4':
        opts.v4 = boolFlag(name, inline);
        break;
      case 'scrub-logs':
        opts.scrubLogs = boolFlag(name, inline);
        break;
      case 'disable-time-sync':
        opts.disableTimeSync = boolFlag(name, inline);
        break;
      case 'core-dump-location':
        opts.coreDumpLocation = value();
        break;
      case 'log-format': {
        const v = value();
        if (v !== 'json' && v !== 'text') throw new UsageError(`-log-format must be json or text, not ${JSON.stringify(v)}`);
        opts.logFormat = v;
        break;
      }
      case 'loglevel': {
        const v = value().toLowerCase();
        const level = LEVEL_ALIASES[v] ?? (LEVELS as readonly string[]).find((l) => l === v);
        if (!level) throw new UsageError(`-loglevel must be one of ${LEVELS.join('|')}, not ${JSON.stringify(v)}`);
        opts.logLevel = level as GuestLogLevel;
        break;
      }
      default: {
        const kind = ACCEPTED[name];
        if (kind === undefined) throw new UsageError(`flag provided but not defined: -${name}`);
        let v: string;
        if (kind === 'bool') {
          v = String(boolFlag(name, inline));
        } else {
          v = value();
          const max = kind === 'uint' ? 0xffffffffn : 0xffffffffffffffffn;
          if ((kind === 'uint' || kind === 'uint64') && (!/^\d+$/.test(v) || BigInt(v) > max)) throw new UsageError(`invalid value ${JSON.stringify(v)} for flag -${name}: parse error`);
          if (kind === 'stance' && v !== 'allow' && v !== 'deny') throw new UsageError(`unknown initial-policy-stance ${JSON.stringify(v)}: want allow or deny`);
        }
        (opts.accepted ??= {})[name] = v;
      }
    }
  }
  if (!opts.v4) throw new UsageError('-v4 is required (only protocol version 4 is served)');
  return opts;
}

export function readGuestEnv(env: NodeJS.ProcessEnv): GuestEnv {
  const vmDir = env['LCOW_GUEST_VM_DIR'];
  if (!vmDir || !vmDir.startsWith('/')) throw new UsageError('LCOW_GUEST_VM_DIR must be set to the absolute path of the VM directory');
  const rawPort = env['LCOW_GUEST_ENTROPY_PORT'];
  let entropyPort: number | undefined;
  if (rawPort !== undefined && rawPort !== '') {
    if (!/^\d+$/.test(rawPort) || Number(rawPort) > 0xffffffff) throw new UsageError(`LCOW_GUEST_ENTROPY_PORT ${JSON.stringify(rawPort)} is not a vsock port`);
    entropyPort = Number(rawPort);
  }
  return { vmDir: vmDir.replace(/\/+$/, '') || '/', entropyPort };
}
