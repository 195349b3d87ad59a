import { DefaultGcsConnectionTimeoutMs, GcsConnectionTimeoutEnv } from './constants.js';

/**
 * The budget for Start in milliseconds: HCSSHIM_TIMEOUT_GCSCONNECTION (whole seconds, > 0) when set and
 * valid, else 2 minutes (hcsshim's timeout.GCSConnectionTimeout).
 */
export function gcsConnectionTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const text = env[GcsConnectionTimeoutEnv]?.trim();
  if (text === undefined || !/^\d+$/.test(text)) return DefaultGcsConnectionTimeoutMs;
  const seconds = Number(text);
  return seconds > 0 && Number.isSafeInteger(seconds * 1000) ? seconds * 1000 : DefaultGcsConnectionTimeoutMs;
}
