import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * True when the bundle's config.json carries CRI annotations (cheap: `start` of a standalone task loads
 * nothing more). An unreadable spec is left for Create to report, naming it.
 */
export function hasCriAnnotations(bundle: string): boolean {
  try {
    const spec = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8')) as { annotations?: unknown };
    const a = spec.annotations;
    return typeof a === 'object' && a !== null && Object.keys(a).some((k) => k.startsWith('io.kubernetes.cri.'));
  } catch {
    return false;
  }
}
