/** What starting a logging binary (containerd's `binary://` stdio) takes and gives, on either platform. */
import type { Writable } from 'node:stream';
import type { Logger } from '../../log/index.js';
import type { PlatformTransport } from '../../transport/index.js';

export interface BinaryLoggerOptions {
  readonly path: string;
  readonly args: readonly string[];
  readonly containerId: string;
  readonly namespace: string;
  readonly log: Logger;
  /** The platform's transport: Windows speaks its own protocol over named pipes it listens on. */
  readonly transport: PlatformTransport;
  /** Default 10000. */
  readonly readyTimeoutMs?: number;
  /** Default 12000. */
  readonly termTimeoutMs?: number;
}

export interface BinaryLogger {
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly pid: number;
  /** Ends both streams, SIGTERM, waits for exit (SIGKILL after termTimeoutMs). Idempotent. */
  close(): Promise<void>;
}
