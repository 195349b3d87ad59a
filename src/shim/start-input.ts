import { fstatSync, readFileSync, readSync } from 'node:fs';
import { isatty } from 'node:tty';
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
  /** The runtime options' `log_level` and `debug` (runhcs options only; bootstrap.ts), for log-level.ts. */
  readonly optionsLogLevel?: string;
  readonly optionsDebug?: boolean;
}

/** At most this much of stdin is read (runtime options are a few hundred bytes). */
const MAX_STDIN_BYTES = 16 << 20;

/**
 * stdin of `start`, read to EOF when it is a pipe or a file (what containerd gives: a pipe with the bytes, or
 * /dev/null); a terminal or anything else is not read, so a person running `start` by hand is not blocked.
 * Where fstat fails on a standard handle that reads fine (Wine answers EBADF for every one of node.exe's
 * standard handles, files included), stdin is read unless it is a terminal.
 */
export function readStartStdin(fd = 0): Uint8Array {
  let st: ReturnType<typeof fstatSync>;
  try {
    st = fstatSync(fd);
  } catch {
    return isatty(fd) ? new Uint8Array() : readToEnd(fd);
  }
  if (!st.isFIFO() && !st.isFile() && !st.isSocket()) return new Uint8Array();
  try {
    return readFileSync(fd);
  } catch {
    return new Uint8Array(); // unreadable: nothing to decode
  }
}

/** Reads `fd` until EOF or an error (no stdin at all: EBADF), with what arrived. */
function readToEnd(fd: number): Uint8Array {
  const chunks: Buffer[] = [];
  let size = 0;
  for (;;) {
    const buf = Buffer.allocUnsafe(64 << 10);
    let n: number;
    try {
      n = readSync(fd, buf, 0, buf.length, null);
    } catch {
      break;
    }
    if (n <= 0) break;
    chunks.push(buf.subarray(0, n));
    size += n;
    if (size >= MAX_STDIN_BYTES) break;
  }
  return Buffer.concat(chunks);
}
