/**
 * Marks `p`'s rejection as handled because another path observes it (a later `await`, a `wait()` that returns
 * it), so Node does not report it as unhandled while nobody has awaited it yet. Not a way to drop an error:
 * the caller names the path that sees it. Returns `p` unchanged.
 */
export function handledElsewhere<T>(p: Promise<T>): Promise<T> {
  p.then(undefined, noop);
  return p;
}

function noop(): void {}
