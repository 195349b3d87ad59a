import { LinuxEntropyVsockPort, LinuxLogVsockPort } from '../gcs/protocol/index.js';
import { PreferredRootFSType, type OptionsLCOW } from './options.js';

/**
 * The guest kernel command line of the seed's CreateLCOW, built from a list of arguments joined by one
 * space (so, unlike the seed, it never starts with a space; see DECISIONS.md):
 *
 *   [initrd=/<rootfs> | root=/dev/pmem0 ro rootwait init=/init]
 *   8250_core.nr_uarts=0 | 8250_core.nr_uarts=1 8250_core.skip_txen_test=1 console=ttyS0,115200
 *   [console=tty] [panic=-1 quiet] [<KernelBootOptions>] [pci=off]
 *   nr_cpus=<n> brd.rd_nr=0 pmtmr=0 -- <init arguments>
 */
export function kernelCommandLine(opts: OptionsLCOW, processorCount: number): string {
  const args: string[] = [];
  if (opts.PreferredRootFSType === PreferredRootFSType.VHD) {
    // The root filesystem is VPMem device 0, mounted read-only.
    args.push('root=/dev/pmem0 ro rootwait init=/init');
  } else if (!opts.KernelDirect) {
    // UEFI boot loads the initrd from the VmbFs share; KernelDirect passes it in the document instead.
    args.push(`initrd=/${opts.RootFSFile}`);
  }
  const debugging = isDebugging(opts);
  if (opts.ConsolePipe !== '') args.push('8250_core.nr_uarts=1 8250_core.skip_txen_test=1 console=ttyS0,115200');
  else args.push('8250_core.nr_uarts=0');
  if (opts.EnableGraphicsConsole) args.push('console=tty');
  // Without a console to debug on, a kernel panic terminates the VM at once.
  if (!debugging) args.push('panic=-1 quiet');
  const extra = opts.KernelBootOptions.trim();
  if (extra !== '') args.push(extra);
  if (!opts.VPCIEnabled) args.push('pci=off');
  args.push(`nr_cpus=${processorCount}`, 'brd.rd_nr=0 pmtmr=0', '--', initArguments(opts));
  return args.join(' ');
}

/** A console (serial pipe or graphics) means someone may debug the VM: no panic=-1, and a shell. */
export function isDebugging(opts: OptionsLCOW): boolean {
  return opts.ConsolePipe !== '' || opts.EnableGraphicsConsole;
}

/**
 * What the guest's init runs: `-e 1` makes init read entropy from vsock port 1 first; vsockexec connects
 * the program's stdout/stderr to the log port. With a console, the program runs in the background of a
 * shell on the console; the entropy flag stays outside `sh -c` (the seed put it inside, where init never
 * sees it and the shell tries to run `-e`).
 */
export function initArguments(opts: OptionsLCOW): string {
  const exec = ['/bin/vsockexec'];
  if (opts.ForwardStdout) exec.push(`-o ${LinuxLogVsockPort}`);
  if (opts.ForwardStderr) exec.push(`-e ${LinuxLogVsockPort}`);
  exec.push(opts.ExecCommandLine);
  const program = exec.join(' ');
  // init's -w (writable overlays over /var and /etc) only means something on a read-only VHD root;
  // an initrd root is already writable and hcsshim leaves the flag out there.
  const writable = opts.WritableOverlayDirs && opts.PreferredRootFSType === PreferredRootFSType.VHD ? ' -w' : '';
  const entropy = `-e ${LinuxEntropyVsockPort}${writable}`;
  return isDebugging(opts) ? `${entropy} sh -c "${program} & exec sh"` : `${entropy} ${program}`;
}
