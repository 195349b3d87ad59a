/**
 * The shim daemon's own log level, one rule on every path (Linux and Windows; containerd 1.6–2.2 with or
 * without runtime options on stdin, containerd 2.3+ BootstrapParams):
 *
 *   1. the runtime options' `log_level` (a logrus name; hcsshim's runhcs.proto: it overrides `debug`)
 *   2. containerd 2.3+'s BootstrapParams log level (containerd's own level)
 *   3. `-debug`, or the runtime options' `debug`
 *   4. info
 *
 * An unknown `log_level` is skipped (the next rule decides) with a warning the daemon logs. `start` decides
 * (it alone sees containerd's stdin) and hands the result to `serve` in its environment (shimLogEnv); a `serve`
 * started without one applies the same rule to what it has (-debug). No logger import: `start` loads none.
 */
import type { LogLevel } from '../log/index.js';
import type { StartInput } from './start-input.js';

export type LogLevelSource = 'log_level' | 'bootstrap' | 'debug' | 'default';

export interface ShimLogLevel {
  readonly level: LogLevel;
  readonly source: LogLevelSource;
  readonly warning?: string;
}

export interface LogLevelInputs {
  /** The runtime options' `log_level`. */
  readonly logLevel?: string;
  /** containerd 2.3+'s level (BootstrapParams). */
  readonly bootstrap?: LogLevel;
  /** `-debug` or the runtime options' `debug`. */
  readonly debug: boolean;
}

/** Environment `start` sets for `serve` (read once, then removed from serve's environment). */
export const LOG_LEVEL_ENV = 'LCOW_SHIM_LOG_LEVEL';
export const LOG_LEVEL_FROM_ENV = 'LCOW_SHIM_LOG_LEVEL_FROM';
export const LOG_LEVEL_WARNING_ENV = 'LCOW_SHIM_LOG_LEVEL_WARNING';

const LEVELS: ReadonlySet<string> = new Set(['error', 'warn', 'info', 'debug', 'trace']);
const SOURCES: ReadonlySet<string> = new Set(['log_level', 'bootstrap', 'debug', 'default']);

/** A logrus level name as ours (panic and fatal clamp to error, warning is warn), or undefined. */
export function logrusLevel(name: string): LogLevel | undefined {
  const l = name.toLowerCase();
  if (l === 'panic' || l === 'fatal') return 'error';
  if (l === 'warning') return 'warn';
  return LEVELS.has(l) ? (l as LogLevel) : undefined;
}

export function chooseShimLogLevel(i: LogLevelInputs): ShimLogLevel {
  let warning: string | undefined;
  if (i.logLevel !== undefined && i.logLevel !== '') {
    const level = logrusLevel(i.logLevel);
    if (level !== undefined) return { level, source: 'log_level' };
    warning = `unknown log_level ${JSON.stringify(i.logLevel)} in the runtime options: ignored`;
  }
  const w = warning === undefined ? {} : { warning };
  if (i.bootstrap !== undefined) return { level: i.bootstrap, source: 'bootstrap', ...w };
  if (i.debug) return { level: 'debug', source: 'debug', ...w };
  return { level: 'info', source: 'default', ...w };
}

/** `start`'s choice from what containerd wrote to its stdin (bootstrap.ts) and its -debug flag. */
export function startLogLevel(input: StartInput, debugFlag: boolean): ShimLogLevel {
  return chooseShimLogLevel({
    ...(input.optionsLogLevel === undefined ? {} : { logLevel: input.optionsLogLevel }),
    ...(input.params === undefined ? {} : { bootstrap: input.params.logLevel }),
    debug: debugFlag || input.optionsDebug === true,
  });
}

/** What `start` puts into serve's environment. */
export function shimLogEnv(l: ShimLogLevel): NodeJS.ProcessEnv {
  // undefined is dropped by spawn: a warning start's own environment happens to hold is not passed on.
  return { [LOG_LEVEL_ENV]: l.level, [LOG_LEVEL_FROM_ENV]: l.source, [LOG_LEVEL_WARNING_ENV]: l.warning };
}

/**
 * serve's level: what `start` chose (environment, then removed so the processes serve starts do not inherit
 * it), or the rule applied to -debug alone when serve was started without it.
 */
export function takeShimLogLevel(env: NodeJS.ProcessEnv, debugFlag: boolean): ShimLogLevel {
  const level = logrusLevel(env[LOG_LEVEL_ENV] ?? '');
  const from = env[LOG_LEVEL_FROM_ENV] ?? '';
  const warning = env[LOG_LEVEL_WARNING_ENV];
  delete env[LOG_LEVEL_ENV];
  delete env[LOG_LEVEL_FROM_ENV];
  delete env[LOG_LEVEL_WARNING_ENV];
  if (level === undefined) return chooseShimLogLevel({ debug: debugFlag });
  return { level, source: SOURCES.has(from) ? (from as LogLevelSource) : 'default', ...(warning ? { warning } : {}) };
}
