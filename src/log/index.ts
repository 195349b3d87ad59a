/**
 * log: a small logger in containerd's (logrus text) format, shared field names, guest log parsing.
 * logTeardown: the rejection handler for a teardown step (logged, never swallowed).
 * Layer boundaries: a leaf. Never writes to stdout.
 * May import: nothing of the project.
 */
export * from './fields.js';
export * from './logger.js';
export * from './logrus-format.js';
export * from './guest-log.js';
export * from './teardown.js';
export * from './iso-time.js';
