import { fstatSync, readFileSync } from 'node:fs';
import type { OpaqueAny } from './task/types.js';

/**
 * What containerd wrote to `start`'s stdin, decoded by bootstrap.ts. Kept apart from the decoder so that
 * `start` loads no protobuf code when stdin is empty (containerd 1.6–2.2 without runtime options).
 */
export interface StartInput {
  /** containerd 2.3+'s BootstrapParams, when that is what stdin held. */
  readonly params?: {
    readonly containerdVersion: string;
    readonly logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error';
    /** containerd's configured shim socket directory (2.3+ always sends one; default /run/containerd/s). */
    readonly socketDir?: string;
    /** containerd's ttrpc address, where events go (2.3+ also still sets TTRPC_ADDRESS; the params win). */
    readonly ttrpcAddress?: string;
  };
  /** The runtime options: a 2.3+ extension, or the whole stdin of an older containerd. */
  readonly options?: OpaqueAny;
  /** The daemon's log level, from params and options (bootstrap.ts). */
  readonly logLevel?: string;
}

/**
 * stdin of `start`, read to EOF when it is a pipe or a file (what containerd gives: a pipe with the bytes, or
 * /dev/null); a terminal or anything else is not read, so a person running `start` by hand is not blocked.
 */
export function readStartStdin(fd = 0): Uint8Array {
  try {
    const st = fstatSync(fd);
    if (!st.isFIFO() && !st.isFile() && !st.isSocket()) return new Uint8Array();
    return readFileSync(fd);
  } catch {
    return new Uint8Array(); // no stdin at all
  }
}
