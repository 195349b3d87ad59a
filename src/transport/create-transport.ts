/** Chooses the transport once, by platform (as src/hcs's backend factory and src/random choose theirs). */
import type { PlatformTransport } from './types.js';
import { UnixTransport } from './unix-transport.js';
import { WindowsTransport } from './windows-transport.js';

export interface TransportOptions {
  /** Defaults to process.platform; tests pass 'win32' to get the Windows implementation anywhere. */
  readonly platform?: NodeJS.Platform;
  /** Linux: the HCS emulator root (default env LCOW_EMULATOR_ROOT, else /run/containerd-shim-lcow-v1/vm). */
  readonly emulatorRoot?: string;
  /** Windows: the Winsock library (default %SystemRoot%\System32\ws2_32.dll; tests: the Linux double). */
  readonly winsockLibrary?: string;
}

export function createTransport(opts: TransportOptions = {}): PlatformTransport {
  const platform = opts.platform ?? process.platform;
  if (platform === 'win32') return new WindowsTransport({ winsockLibrary: opts.winsockLibrary });
  return new UnixTransport({ emulatorRoot: opts.emulatorRoot });
}
