import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IdleReclaim, IdleState, type IdleReclaimOptions, type Reclaimed, type Reclaimer } from '../../src/reclaim/index.js';

const MB = 1024 * 1024;

/** Timers driven by hand: `fire()` runs the one pending timer, as Node would after its delay. */
class HandTimers {
  pending: { fn: () => void; ms: number } | undefined;
  sets = 0;
  set = (fn: () => void, ms: number): unknown => {
    assert.equal(this.pending, undefined, 'at most one timer at a time');
    this.sets++;
    this.pending = { fn, ms };
    return this.pending;
  };
  clear = (handle: unknown): void => {
    assert.equal(handle, this.pending, 'clears the timer it set');
    this.pending = undefined;
  };
  fire(): void {
    const p = this.pending;
    assert.ok(p, 'a timer is pending');
    this.pending = undefined;
    p.fn();
  }
}

interface Rig {
  idle: IdleReclaim;
  timers: HandTimers;
  reclaimed: Reclaimed[];
  unavailable: string[];
  errors: Error[];
  loads: number;
  calls: number;
  rss: number;
  due: boolean;
}

function rig(over: Partial<IdleReclaimOptions> & { reclaimer?: Reclaimer; afterReclaim?: number } = {}): Rig {
  const timers = new HandTimers();
  const r: Rig = { idle: undefined as unknown as IdleReclaim, timers, reclaimed: [], unavailable: [], errors: [], loads: 0, calls: 0, rss: 46 * MB, due: true };
  const reclaimer: Reclaimer = over.reclaimer ?? {
    available: true, path: '/x/lcow-reclaim.node',
    reclaim: () => {
      r.calls++;
      r.rss = over.afterReclaim ?? 44 * MB;
      return { v8: true, mallocTrim: true, mallocReleased: true };
    },
  };
  r.idle = new IdleReclaim({
    idleMs: 250,
    due: () => r.due,
    rss: () => r.rss,
    load: () => { r.loads++; return reclaimer; },
    onReclaimed: (x) => r.reclaimed.push(x),
    onUnavailable: (reason) => r.unavailable.push(reason),
    onError: (err) => r.errors.push(err),
    timers,
    ...over,
  });
  return r;
}

describe('reclaim: IdleReclaim, when the daemon gives memory back', () => {
  it('after a burst of requests, once quiet for idleMs: loads the addon once and reclaims, reporting RSS before and after', () => {
    const r = rig();
    assert.equal(r.idle.state, IdleState.Quiet);
    assert.equal(r.idle.watching, true);
    assert.equal(r.timers.pending, undefined, 'no timer before any activity');
    r.idle.begin(); // Create
    assert.equal(r.idle.state, IdleState.Waiting);
    assert.equal(r.timers.pending, undefined, 'no timer while a request is in flight');
    r.idle.end();
    assert.equal((r.timers as { pending?: { ms: number } }).pending?.ms, 250);
    r.idle.begin(); // Start arrives before the timer fires: restarted after it ends
    assert.equal(r.timers.pending, undefined);
    r.idle.end();
    assert.equal(r.loads, 0, 'the addon is not loaded before the first reclaim');
    r.timers.fire();
    assert.equal(r.idle.state, IdleState.Done);
    assert.equal(r.loads, 1);
    assert.equal(r.calls, 1);
    assert.equal(r.reclaimed.length, 1);
    assert.equal(r.reclaimed[0]?.rssBefore, 46 * MB);
    assert.equal(r.reclaimed[0]?.rssAfter, 44 * MB);
    assert.ok((r.reclaimed[0]?.cpuMs ?? -1) >= 0);
    assert.deepEqual(r.reclaimed[0]?.result, { v8: true, mallocTrim: true, mallocReleased: true });
    assert.equal(r.timers.pending, undefined, 'nothing pending once quiet');
  });

  it('a long poll (Wait) is activity but not work in flight: a running container\'s pending Wait does not keep the daemon busy', () => {
    const r = rig();
    r.idle.begin(); r.idle.end(); // Start
    r.idle.begin(true); // Wait, unanswered while the container runs
    assert.ok(r.timers.pending, 'the timer runs with only a long poll pending');
    r.timers.fire();
    assert.equal(r.calls, 1);
    r.idle.end(true); // the exit: Wait answered
    assert.equal(r.timers.pending, undefined, 'done: no timer any more');
  });

  it('only when due (a process runs): a daemon whose container already exited does not reclaim, and checks again after the next activity', () => {
    const r = rig();
    r.due = false;
    r.idle.begin(); r.idle.end();
    r.timers.fire();
    assert.equal(r.calls, 0);
    assert.equal(r.loads, 0);
    r.due = true;
    r.idle.begin(); r.idle.end();
    r.timers.fire();
    assert.equal(r.calls, 1);
  });

  it('once: later bursts (exec probes, Connect storms, a pod\'s next container) never reclaim again, and cost no timer', () => {
    const r = rig();
    r.idle.begin(); r.idle.end(); r.timers.fire();
    assert.equal(r.calls, 1);
    assert.equal(r.idle.state, IdleState.Done);
    assert.equal(r.idle.watching, false, 'callers may stop reporting');
    const sets = r.timers.sets;
    for (let i = 0; i < 5; i++) {
      r.rss += 8 * MB; // it grew again
      r.idle.begin(); r.idle.begin(true); r.idle.end(); r.idle.end(true);
      assert.equal(r.timers.pending, undefined);
    }
    assert.equal(r.timers.sets, sets, 'no timer set after the reclaim');
    assert.equal(r.calls, 1);
    assert.equal(r.loads, 1);
  });

  it('no addon: says why once and is done; the daemon serves as before', () => {
    const r = rig({ reclaimer: { available: false, reason: 'no lcow-reclaim.node (looked for /a, /b)' } });
    r.idle.begin(); r.idle.end();
    r.timers.fire();
    assert.equal(r.idle.state, IdleState.Done);
    r.idle.begin(); r.idle.end();
    assert.equal(r.timers.pending, undefined);
    assert.deepEqual(r.unavailable, ['no lcow-reclaim.node (looked for /a, /b)']);
    assert.equal(r.loads, 1);
    assert.equal(r.reclaimed.length, 0);
  });

  it('a reclaim that throws is reported through onError, not thrown into the timer, and not tried again', () => {
    let n = 0;
    const r = rig({
      reclaimer: {
        available: true, path: '/x',
        reclaim: () => {
          n++;
          throw new TypeError('lcow-reclaim.node: reclaim() returned 9, not a bit set 0..7');
        },
      },
    });
    r.idle.begin(); r.idle.end();
    assert.doesNotThrow(() => r.timers.fire());
    assert.equal(r.errors.length, 1);
    assert.match(r.errors[0]?.message ?? '', /returned 9/);
    assert.equal(r.idle.state, IdleState.Done);
    r.idle.begin(); r.idle.end();
    assert.equal(r.timers.pending, undefined);
    assert.equal(n, 1);
    assert.equal(r.reclaimed.length, 0);
  });

  it('a due() that throws is reported and the next quiet period checks again', () => {
    let throwing = true;
    const r = rig({ due: () => { if (throwing) throw new Error('no task logic yet'); return true; } });
    r.idle.begin(); r.idle.end();
    assert.doesNotThrow(() => r.timers.fire());
    assert.equal(r.errors[0]?.message, 'no task logic yet');
    throwing = false;
    r.idle.begin(); r.idle.end(); r.timers.fire();
    assert.equal(r.calls, 1);
  });

  it('close after done: Closed', () => {
    const r = rig();
    r.idle.begin(); r.idle.end(); r.timers.fire();
    r.idle.close();
    assert.equal(r.idle.state, IdleState.Closed);
  });

  it('close: clears a pending timer and ignores everything after (every call in Closed is a no-op)', () => {
    const r = rig();
    r.idle.begin(); r.idle.end();
    assert.ok(r.timers.pending);
    r.idle.close();
    assert.equal(r.timers.pending, undefined);
    assert.equal(r.idle.state, IdleState.Closed);
    assert.equal(r.idle.watching, false);
    r.idle.begin(); r.idle.end(); r.idle.begin(true); r.idle.end(true); r.idle.close();
    assert.equal(r.idle.state, IdleState.Closed);
    assert.equal(r.timers.pending, undefined);
    assert.equal(r.timers.sets, 1);
    assert.equal(r.calls, 0);
  });

  it('a close while in flight, then the request ends: no timer', () => {
    const r = rig();
    r.idle.begin();
    r.idle.close();
    r.idle.end();
    assert.equal(r.timers.pending, undefined);
    assert.equal(r.timers.sets, 0);
  });

  it('in-flight counting: the timer starts only when the last of several concurrent requests ends; an extra end does not go negative', () => {
    const r = rig();
    r.idle.begin(); r.idle.begin(); r.idle.begin(true);
    r.idle.end();
    assert.equal(r.timers.pending, undefined, 'one still in flight');
    r.idle.end();
    assert.ok(r.timers.pending);
    r.idle.end(); // unmatched
    r.idle.begin();
    assert.equal(r.timers.pending, undefined, 'a new request is in flight: the count did not go below zero');
  });

  it('the real timers are unreferenced: a pending reclaim never keeps the process alive', async () => {
    const { spawnSync } = await import('node:child_process');
    const url = new URL('../../src/reclaim/index.js', import.meta.url).href;
    const script = `import(${JSON.stringify(url)}).then(({ IdleReclaim }) => {
      const idle = new IdleReclaim({ idleMs: 60000, due: () => true, rss: () => 0, load: () => { throw new Error('loaded'); },
        onReclaimed() {}, onUnavailable() {}, onError() {} });
      idle.begin(); idle.end();
    });`;
    const t0 = Date.now();
    const res = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20000 });
    assert.equal(res.status, 0, res.stderr);
    assert.ok(Date.now() - t0 < 20000, 'exited without waiting for the 60 s timer');
  });
});
