/**
 * Resolves once `p` has settled, fulfilled or rejected, for a path that must only wait for it (a close waiting
 * for a start in flight) while its outcome is reported on another path (start's own caller). Not a way to drop
 * an error: the caller names the path that reports it.
 */
export function whenSettled(p: Promise<unknown>): Promise<void> {
  return p.then(noop, noop);
}

function noop(): void {}
