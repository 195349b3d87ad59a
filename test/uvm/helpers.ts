import type { HostInfo } from '../../src/hcs/index.js';
import { newDefaultOptionsLCOW, type HostFacts, type OptionsLCOW } from '../../src/uvm/index.js';

export const WIN_HOST: HostInfo = { osBuild: 20348, logicalProcessors: 8, pathFlavour: 'windows', arch: 'amd64' };

/** Host facts with a fixed set of existing paths. */
export function facts(info: HostInfo, existing: string[] = [], executablePath = 'C:\\shim\\containerd-shim-lcow-v1.exe'): HostFacts & { asked: string[] } {
  const set = new Set(existing);
  const asked: string[] = [];
  return {
    info,
    exists: (p) => {
      asked.push(p);
      return set.has(p);
    },
    executablePath,
    programFiles: 'C:\\Program Files',
    asked,
  };
}

/** Default options for a Windows host with boot files in C:\LCOW (nothing auto-detected), plus overrides. */
export function lcowOptions(overrides: Partial<OptionsLCOW> = {}, info: HostInfo = WIN_HOST): OptionsLCOW {
  const opts = newDefaultOptionsLCOW('uvm-test', 'containerd-shim-lcow-v1.exe', facts(info), 'info');
  opts.BootFilesPath = info.pathFlavour === 'windows' ? 'C:\\LCOW' : '/opt/lcow';
  return { ...opts, ...overrides };
}
