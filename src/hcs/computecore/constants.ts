/** Constants of the computecore backend that callers may need without loading koffi. */

/** hcsshim's HCS create/start budget (4 minutes); used for every call without its own timeoutMs. */
export const DEFAULT_HCS_TIMEOUT_MS = 240_000;

export const COMPUTECORE_NOT_FOUND =
  'computecore.dll not found: HCS needs Windows 10 1809 / Server 2019 or later with Hyper-V enabled';
