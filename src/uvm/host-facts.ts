import { existsSync } from 'node:fs';
import type { HostInfo } from '../hcs/index.js';

/**
 * What CreateLCOW needs to know about the host, injectable so that defaults, checks and the document
 * can be computed for any host (tests, the dry run) without touching this machine.
 */
export interface HostFacts {
  /** OS build, logical processors, path flavour, architecture (from HcsApi.hostInfo()). */
  readonly info: HostInfo;
  /** True when the file or directory exists on the host (os.Stat succeeding). */
  exists(path: string): boolean;
  /** Full path of the shim executable, in the host's flavour; the boot files are looked for beside it. */
  readonly executablePath: string;
  /** `%ProgramFiles%`; `C:\Program Files` when unset. */
  readonly programFiles?: string;
}

/** Host facts of this process: the given HostInfo, the real file system and the running script. */
export function localHostFacts(info: HostInfo, overrides: Partial<Omit<HostFacts, 'info'>> = {}): HostFacts {
  return {
    info,
    exists: overrides.exists ?? existsSync,
    executablePath: overrides.executablePath ?? process.argv[1] ?? process.execPath,
    programFiles: overrides.programFiles ?? process.env['ProgramFiles'],
  };
}
