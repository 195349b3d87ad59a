/**
 * Reads the LCOW kernel command line the way the utility VM's init would, to learn how to launch the
 * guest agent. Shape (hcsshim MakeLCOWDoc / the seed's CreateLCOW):
 *   <kernel params> -- [-e <entropy port>] /bin/vsockexec [-i P] [-o P] [-e P] /bin/gcs <gcs flags...>
 * optionally wrapped for a console as  sh -c "<the same init args> & exec sh"  (the seed puts `-e 1`
 * inside the quotes; later hcsshim keeps it outside; both are accepted). Pure: no I/O.
 */

export interface GuestLaunchPlan {
  /** init `-e N`: the guest reads entropy from vsock port N at start. */
  readonly entropyPort?: number;
  /** init `-w`: overlays over /var and /etc of a read-only root (recorded; the emulated VM has no root of its own). */
  readonly writableOverlayDirs?: boolean;
  /** vsockexec `-i/-o/-e P`: the agent's stdin/stdout/stderr are vsock port P (dialed by the emulator). */
  readonly stdinPort?: number;
  readonly stdoutPort?: number;
  readonly stderrPort?: number;
  /** The agent's argv after `/bin/gcs`. */
  readonly gcsArgs: readonly string[];
  /** True when the init args were wrapped in `sh -c "…"` for a console (the shell itself is not emulated). */
  readonly consoleShell: boolean;
  /** Kernel parameters before `--` (informational, e.g. nr_cpus=2). */
  readonly kernelParams: readonly string[];
}

/** Thrown for a command line the emulator cannot boot; the caller turns it into an HcsError. */
export class CmdlineError extends Error {
  override name = 'CmdlineError';
}

/** Splits like the kernel and a POSIX shell do for these lines: whitespace, with "…" and '…' grouping. */
export function tokenize(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inToken = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === '"' || c === "'") {
      let end = i + 1;
      while (end < text.length && text[end] !== c) end += c === '"' && text[end] === '\\' ? 2 : 1;
      if (end >= text.length) throw new CmdlineError(`unbalanced ${c} in ${JSON.stringify(text)}`);
      cur += c === '"' ? text.slice(i + 1, end).replace(/\\(["\\$`])/g, '$1') : text.slice(i + 1, end);
      inToken = true;
      i = end;
    } else if (/\s/.test(c)) {
      if (inToken) out.push(cur);
      cur = '';
      inToken = false;
    } else {
      cur += c;
      inToken = true;
    }
  }
  if (inToken) out.push(cur);
  return out;
}

function port(flag: string, value: string | undefined): number {
  if (value === undefined || !/^\d+$/.test(value) || Number(value) > 0xffffffff) {
    throw new CmdlineError(`${flag} needs a vsock port number, got ${JSON.stringify(value)}`);
  }
  return Number(value);
}

const isProgram = (arg: string | undefined, name: string): boolean => arg === name || arg === `/bin/${name}` || arg === `/sbin/${name}`;

/** Parses a whole kernel command line into the guest launch plan. */
export function parseKernelCmdLine(cmdline: string): GuestLaunchPlan {
  const tokens = tokenize(cmdline);
  const sep = tokens.indexOf('--');
  if (sep < 0) throw new CmdlineError('the kernel command line has no "--" separating init arguments');
  return parseInitArgs(tokens.slice(sep + 1), tokens.slice(0, sep), false);
}

function parseInitArgs(argv: string[], kernelParams: string[], consoleShell: boolean): GuestLaunchPlan {
  let i = 0;
  let entropyPort: number | undefined;
  let writable = false;
  // init's own flags (getopt "e:w" in hcsshim's init), in any order
  for (;;) {
    if (argv[i] === '-e') {
      entropyPort = port('init -e', argv[i + 1]);
      i += 2;
    } else if (argv[i] === '-w') {
      writable = true;
      i += 1;
    } else break;
  }
  if (isProgram(argv[i], 'sh') && argv[i + 1] === '-c') {
    if (consoleShell) throw new CmdlineError('nested sh -c in the init arguments');
    const script = tokenize(argv[i + 2] ?? '');
    // Keep the first command of the script: `… & exec sh` starts the console shell beside it.
    const end = script.findIndex((t) => t === '&' || t === ';' || t === '&&');
    const inner = parseInitArgs(end < 0 ? script : script.slice(0, end), kernelParams, true);
    const withEntropy = entropyPort === undefined || inner.entropyPort !== undefined ? inner : { ...inner, entropyPort };
    return writable ? { ...withEntropy, writableOverlayDirs: true } : withEntropy;
  }
  const rest = { entropyPort, writableOverlayDirs: writable || undefined } as {
    entropyPort?: number; writableOverlayDirs?: boolean; stdinPort?: number; stdoutPort?: number; stderrPort?: number;
  };
  if (isProgram(argv[i], 'vsockexec')) {
    i++;
    for (;;) {
      const flag = argv[i];
      if (flag === '-i') rest.stdinPort = port('vsockexec -i', argv[i + 1]);
      else if (flag === '-o') rest.stdoutPort = port('vsockexec -o', argv[i + 1]);
      else if (flag === '-e') rest.stderrPort = port('vsockexec -e', argv[i + 1]);
      else break;
      i += 2;
    }
  }
  const program = argv[i];
  if (program === undefined) throw new CmdlineError('the init arguments name no program to run');
  if (!isProgram(program, 'gcs')) {
    throw new CmdlineError(`the emulator can only boot the guest agent /bin/gcs, the init arguments run ${JSON.stringify(program)}`);
  }
  const plan: GuestLaunchPlan = { gcsArgs: argv.slice(i + 1), consoleShell, kernelParams };
  return Object.assign(plan, Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)));
}
