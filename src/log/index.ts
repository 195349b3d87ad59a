/**
 * log: a small logger in containerd's (logrus text) format, shared field names, guest log parsing.
 * Layer boundaries: a leaf; imports nothing of the project. Never writes to stdout.
 */
export * from './fields.js';
export * from './logger.js';
export * from './logrus-format.js';
export * from './guest-log.js';
export * from './teardown.js';
