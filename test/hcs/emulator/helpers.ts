/** Shared set-up for the emulator tests: temp roots, boot files from the real build step, LCOW documents. */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import type { ComputeSystem } from '../../../src/hcs/index.js';
import { createLogger, type Logger } from '../../../src/log/index.js';

export const DEFAULT_CMDLINE =
  ' 8250_core.nr_uarts=0 panic=-1 quiet pci=off nr_cpus=1 brd.rd_nr=0 pmtmr=0 -- -e 1 /bin/vsockexec -e 109 /bin/gcs -v4 -log-format json -loglevel debug';

/** A logger that discards (set EMU_TEST_LOG=1 to see the emulator's logs on stderr). */
export function testLogger(): Logger {
  if (process.env['EMU_TEST_LOG'] === '1') return createLogger({ level: 'debug' });
  return createLogger({ level: 'error', stream: new Writable({ write: (_c, _e, cb) => cb() }) });
}

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Runs scripts/build-steps/10-emulator-boot-files.mjs into `outDir`; returns the LinuxBootFiles folder. */
export async function buildBootFiles(outDir: string): Promise<string> {
  const step = pathToFileURL(join(process.cwd(), 'scripts', 'build-steps', '10-emulator-boot-files.mjs')).href;
  const mod = (await import(step)) as { default: (out: string, root: string) => Promise<void> };
  await mod.default(outDir, process.cwd());
  return join(outDir, 'bin', 'LinuxBootFiles');
}

/** The default LCOW document shape (hcs-and-uvm.md §5.4, seed revision: SCSI controller "0"). */
export function lcowDocument(bootDir: string, cmdline = DEFAULT_CMDLINE): ComputeSystem {
  return {
    Owner: 'emulator-test',
    SchemaVersion: { Major: 2, Minor: 1 },
    VirtualMachine: {
      StopOnReset: true,
      Chipset: {
        LinuxKernelDirect: {
          KernelFilePath: join(bootDir, 'kernel'),
          InitRdPath: join(bootDir, 'initrd.img'),
          KernelCmdLine: cmdline,
        },
      },
      ComputeTopology: { Memory: { SizeInMB: 1024, AllowOvercommit: true }, Processor: { Count: 1 } },
      Devices: {
        Scsi: { '0': {} },
        VirtualPMem: { MaximumCount: 4, MaximumSizeBytes: 4294967296 },
        HvSocket: { HvSocketConfig: { DefaultBindSecurityDescriptor: 'D:P(A;;FA;;;SY)(A;;FA;;;BA)' } },
        Plan9: {},
      },
    },
    ShouldTerminateOnLastHandleClosed: true,
  };
}

let n = 0;
/** A unique compute system id per call (the emulator's registry is process-wide). */
export const uniqueId = (tag: string): string => `${tag}-${process.pid}-${++n}@vm`;
