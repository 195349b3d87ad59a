/**
 * Whether this daemon has run a task until it was released (deleted, its VM exited, its rootfs released:
 * the moment the released marker is written). The executable's loader (scripts/build-steps/code-cache.cjs)
 * asks at `serve`'s exit: only such a daemon's compiled code is written as the learned code cache, since one
 * that failed early or served no container compiled none of a container's life.
 */
let released = false;

/** Called when a task of this daemon is released. */
export function markTaskReleased(): void {
  released = true;
}

/** True once a task of this daemon was released. */
export function hasReleasedTask(): boolean {
  return released;
}
