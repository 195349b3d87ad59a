import type { ShimFlags } from './flags.js';

/** containerd's string flags and the ShimFlags field each fills. */
const STRING_FLAGS = new Map<string, 'namespace' | 'id' | 'address' | 'publishBinary' | 'bundle' | 'socket'>([
  ['namespace', 'namespace'],
  ['id', 'id'],
  ['address', 'address'],
  ['publish-binary', 'publishBinary'],
  ['bundle', 'bundle'],
  ['socket', 'socket'],
]);

const FAST_ACTIONS = new Set(['start', 'delete', 'serve']);

/**
 * The fast path of flag parsing, for the command lines containerd itself writes (`-name value` or
 * `-name=value` for the known string flags, a bare `-debug`, then `start`, `delete` or nothing = serve).
 * Returns undefined for anything else — help, version, uvm-doc, unknown or repeated flags, a value that
 * starts with `-`, `-debug=…` — and the caller then asks the full (yargs) parser, which gives the same
 * answer for every command line this one accepts. It exists because loading yargs costs more than the rest
 * of `start` or `delete`, and containerd runs both for every container.
 */
export function parseContainerdFlags(argv: readonly string[]): ShimFlags | undefined {
  const f = { namespace: '', id: '', address: '', publishBinary: '', bundle: '', socket: '' };
  const seen = new Set<string>();
  let debug = false;
  let action: 'start' | 'delete' | 'serve' = 'serve';
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (!arg.startsWith('-') || arg === '-' || arg === '--') {
      // The action must be the last word (words after it belong to other actions, e.g. uvm-doc).
      if (i !== argv.length - 1 || !FAST_ACTIONS.has(arg)) return undefined;
      action = arg as typeof action;
      break;
    }
    const body = arg.startsWith('--') ? arg.slice(2) : arg.slice(1);
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    if (seen.has(name)) return undefined;
    seen.add(name);
    if (name === 'debug') {
      const next = argv[i + 1];
      if (eq >= 0 || next === 'true' || next === 'false') return undefined;
      debug = true;
      continue;
    }
    const key = STRING_FLAGS.get(name);
    if (key === undefined) return undefined;
    const value = eq >= 0 ? body.slice(eq + 1) : argv[++i];
    if (value === undefined || value.startsWith('-')) return undefined;
    f[key] = value;
  }
  return { action, ...f, debug, rest: [] };
}
