import { Mutex } from '../../async/index.js';
import type { Logger } from '../../log/index.js';
import type { GuestContainer } from '../../sandbox/index.js';
import type { ExecState } from './exec-state.js';
import { PauseState, canTransitionPause, pauseGuard } from './pause-state.js';

/**
 * A task's Pause/Resume (state machine and errors: pause-state.ts). Operations run one at a time, in call
 * order, so a Pause arriving while a Resume is in flight is judged on the Resume's outcome. The guest does
 * the freezing (GuestContainer.pause/resume: `runc pause|resume` in the utility VM).
 */
export class Freezer {
  private st = PauseState.Thawed;
  private readonly ops = new Mutex();

  constructor(
    private readonly container: Pick<GuestContainer, 'pause' | 'resume'>,
    /** True once the task's init has exited: its exit wins over a pause or resume in flight. */
    private readonly initExited: () => boolean,
    private readonly log: Logger,
  ) {}

  get state(): PauseState {
    return this.st;
  }

  pause(init: ExecState): Promise<void> {
    return this.ops.run(async () => {
      pauseGuard.pause(init, this.st);
      await this.freeze(PauseState.Pausing, PauseState.Paused, PauseState.Thawed, () => this.container.pause());
    });
  }

  resume(init: ExecState): Promise<void> {
    return this.ops.run(async () => {
      pauseGuard.resume(init, this.st);
      await this.freeze(PauseState.Resuming, PauseState.Thawed, PauseState.Paused, () => this.container.resume());
    });
  }

  /**
   * The init exited while the task was paused (e.g. a SIGKILL): the container is thawed once more so
   * nothing of it stays frozen through the teardown, as runc-v2's pausedState.SetExited resumes it. A
   * refusal is logged at info: runc thaws a container it SIGKILLs and then calls it stopped, not paused, so
   * after `kill -9` of a paused task the resume is refused as a matter of course.
   */
  async thawAfterExit(): Promise<void> {
    await this.ops.settled();
    if (this.st === PauseState.Thawed) return;
    this.st = PauseState.Thawed;
    await this.container.resume().catch((err: Error) =>
      this.log.info('resuming the exited container from the paused state was refused', { error: err.message }),
    );
  }

  /** Moves through `via` to `ok`, or back to `failed` when the guest refused; the init's exit wins over both. */
  private async freeze(via: PauseState, ok: PauseState, failed: PauseState, fn: () => Promise<void>): Promise<void> {
    this.move(via);
    try {
      await fn();
    } catch (err) {
      if (!this.initExited()) this.move(failed);
      throw err;
    }
    if (!this.initExited()) this.move(ok);
  }

  private move(to: PauseState): void {
    if (!canTransitionPause(this.st, to)) throw new Error(`invalid pause transition ${this.st} → ${to}`);
    this.st = to;
  }
}
