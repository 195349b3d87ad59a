/** Chooses the transport once, by platform: the only place in the project that looks at process.platform. */
import type { Listener, Transport } from './types.js';
import { UnixTransport } from './unix-transport.js';
import { WindowsTransport } from './windows-transport.js';

export interface TransportOptions {
  /** Defaults to process.platform; tests pass 'win32' to get the Windows implementation anywhere. */
  readonly platform?: NodeJS.Platform;
  /** Linux: the HCS emulator root (default env LCOW_EMULATOR_ROOT, else /run/containerd-shim-lcow-v1/vm). */
  readonly emulatorRoot?: string;
}

/** Transport plus local serving (the shim's own ttrpc socket/pipe): unix paths on Linux, named pipes on Windows. */
export interface PlatformTransport extends Transport {
  listen(address: string): Promise<Listener>;
}

export function createTransport(opts: TransportOptions = {}): PlatformTransport {
  const platform = opts.platform ?? process.platform;
  if (platform === 'win32') return new WindowsTransport();
  return new UnixTransport({ emulatorRoot: opts.emulatorRoot });
}
