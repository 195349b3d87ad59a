/**
 * The runtime options containerd hands a shim on `start`'s stdin: a protobuf google.protobuf.Any holding
 * containerd.runhcs.v1.Options (containerd runtime/v2 shim util: Command() marshals the runtime's options into
 * stdin). On Windows `start` forwards those bytes to the `serve` child's stdin, as runhcs does, and `serve` takes
 * its own log level from them: `log_level` (a logrus name) overrides `debug` (hcsshim's runhcs.proto comment).
 * Anything else on stdin (nothing, or another message such as containerd 2.x BootstrapParams, which also decodes
 * as an Any) carries no options for this: the -debug flag decides.
 */
import type { Readable } from 'node:stream';
import { normalizeLevel, type LogLevel } from '../log/index.js';
import { google } from '../proto/index.js';
import { decodeRuntimeOptions, RUNHCS_OPTIONS_TYPE } from './create/runtime-options.js';

/** Reads `stream` to its end, at most `maxBytes`, giving up after `timeoutMs` (a terminal never ends). */
export function readAllBounded(stream: Readable, timeoutMs: number, maxBytes = 1 << 20): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (): void => {
      clearTimeout(timer);
      stream.off('data', onData);
      stream.pause();
      resolve(Buffer.concat(chunks));
    };
    const onData = (b: Buffer): void => {
      if (size + b.length > maxBytes) return done();
      chunks.push(b);
      size += b.length;
    };
    const timer = setTimeout(done, timeoutMs);
    stream.on('data', onData);
    stream.once('end', done);
    stream.once('error', done);
  });
}

export interface ServeLogSettings {
  readonly level: LogLevel;
  /** Why: 'log_level', 'debug' (options or flag) or 'default'; and a problem worth a warning, if any. */
  readonly source: 'log_level' | 'debug' | 'default';
  readonly warning?: string;
}

/** The shim's log level from the options bytes and the -debug flag. Never throws. */
export function serveLogSettings(optionsBytes: Uint8Array, debugFlag: boolean): ServeLogSettings {
  let debug = debugFlag;
  let logLevel: string | undefined;
  let warning: string | undefined;
  if (optionsBytes.length > 0) {
    try {
      const any = google.protobuf.Any.decode(optionsBytes);
      if (any.type_url.endsWith(`/${RUNHCS_OPTIONS_TYPE}`) || any.type_url === RUNHCS_OPTIONS_TYPE) {
        const o = decodeRuntimeOptions({ typeUrl: any.type_url, value: any.value });
        debug ||= o.debug === true;
        logLevel = o.logLevel;
      }
    } catch (err) {
      warning = `runtime options on stdin do not decode: ${(err as Error).message}`;
    }
  }
  if (logLevel !== undefined) {
    const level = normalizeLevel(logLevel, 'info');
    if (level.toString() !== logLevel.toLowerCase() && !['panic', 'fatal', 'warning'].includes(logLevel.toLowerCase())) {
      return { level: debug ? 'debug' : 'info', source: debug ? 'debug' : 'default', warning: `unknown log_level ${JSON.stringify(logLevel)} in the runtime options` };
    }
    return { level, source: 'log_level', ...(warning ? { warning } : {}) };
  }
  return { level: debug ? 'debug' : 'info', source: debug ? 'debug' : 'default', ...(warning ? { warning } : {}) };
}
