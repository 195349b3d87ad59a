import { invalidArgument } from '../errdefs/index.js';

/**
 * hcsshim annotations (pkg/annotations, internal/annotations) that are not CreateLCOW document options:
 * what the GCS command line gets, which shares the VM may have, and the expansion of
 * disable-unsafe-operations (internal/oci ProcessAnnotations).
 */
const VM = 'io.microsoft.virtualmachine';
export const GuestAnnotation = {
  DisableTimeSync: `${VM}.lcow.timesync.disable`,
  ProcessDumpLocation: 'io.microsoft.container.processdumplocation',
  ExtraExecArgs: `${VM}.lcow.extra-exec-command-args`,
  DisableWritableFileShares: `${VM}.fileshares.disablewritable`,
  DisableUnsafeOperations: 'io.microsoft.disable-unsafe-operations',
  /** Expanded from DisableUnsafeOperations; WCOW-only, carried for the conflict check. */
  WcowDisableGmsa: 'io.microsoft.container.wcow.gmsa.disable',
  VsmbNoDirectMap: `${VM}.wcow.virtualSMB.nodirectmap`,
  DisableHostProcessContainer: 'microsoft.com/disable-hostprocess-container',
} as const;

const EXPANSIONS: Readonly<Record<string, readonly string[]>> = {
  [GuestAnnotation.DisableUnsafeOperations]: [
    GuestAnnotation.WcowDisableGmsa, GuestAnnotation.DisableWritableFileShares, GuestAnnotation.VsmbNoDirectMap,
    GuestAnnotation.DisableHostProcessContainer,
  ],
};

/**
 * runhcs ProcessAnnotations: `io.microsoft.disable-unsafe-operations` sets each annotation it stands for
 * to its own value; one already set to a different value is a conflict, and an error (runhcs raises it:
 * the expansion turns security features on). Returns the expanded copy.
 */
export function expandAnnotations(a: Readonly<Record<string, string>>): Record<string, string> {
  const out = { ...a };
  const conflicts: string[] = [];
  for (const [key, expansions] of Object.entries(EXPANSIONS)) {
    const value = a[key];
    if (value === undefined) continue;
    for (const k of expansions) {
      if (out[k] !== undefined && out[k] !== value) conflicts.push(`"${key}" = "${value}" and "${k}" = "${out[k]}"`);
      else out[k] = value;
    }
  }
  if (conflicts.length > 0) throw invalidArgument(`annotation expansion conflict: ${conflicts.join('; ')}`);
  return out;
}

/** hcsshim's ParseAnnotationsBool reading (strconv.ParseBool): anything else is `undefined`. */
export function annotationBool(a: Readonly<Record<string, string>>, key: string): boolean | undefined {
  const v = a[key];
  if (v === undefined) return undefined;
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  throw invalidArgument(`annotation ${key}: '${v}' is not a boolean (true or false)`);
}

/**
 * What CreateLCOW appends to the GCS command line (create_lcow.go): the extra exec arguments as given,
 * `-disable-time-sync`, `-scrub-logs=false` (runtime option scrub_logs = false), then
 * `-core-dump-location <path>`.
 */
export function gcsCommandLineExtras(a: Readonly<Record<string, string>>, noScrub = false): string {
  const parts: string[] = [];
  const extra = (a[GuestAnnotation.ExtraExecArgs] ?? '').trim();
  if (extra !== '') parts.push(extra);
  if (annotationBool(a, GuestAnnotation.DisableTimeSync) === true) parts.push('-disable-time-sync');
  if (noScrub) parts.push('-scrub-logs=false');
  const dump = a[GuestAnnotation.ProcessDumpLocation] ?? '';
  if (dump !== '') {
    if (/\s/.test(dump)) throw invalidArgument(`annotation ${GuestAnnotation.ProcessDumpLocation}: '${dump}' must not contain spaces (it is a GCS flag value)`);
    parts.push(`-core-dump-location ${dump}`);
  }
  return parts.length > 0 ? ` ${parts.join(' ')}` : '';
}
