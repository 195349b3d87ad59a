// The start-up milestones of one lcow container in containerd's debug log (the shim's logrus lines carry
// tid=<id>; containerd's own carry id=<id>; the guest's, relayed by the shim, cid=<id>), as ms after `t0`.
// Used by containerd-bench.mjs (f) and ab-breakdown.mjs. "start command": Node's `start` stamps it as it begins;
// for a `start` in sh (shim-wrapper.sh) `serve` stamps it with its own process start (time-of=serve-process-start),
// a few ms after sh began.

export const MILESTONES = [
  ['start command', /msg="shim start"/],
  ['server ready', /msg="shim serving"/],
  ['Create received', /msg="task Create received"/],
  ['VM document built', /msg="uvm::CreateLCOW document built"/],
  ['guest connected', /msg="gcs protocol negotiated"/],
  ['container created', /msg="task Create"/],
  ['container started', /msg="task Start"/],
  ['exit observed', /msg="process exited"/],
  ['task deleted', /msg="task Delete"/],
  ['shim disconnected', /msg="shim disconnected"/],
];

/** [{name, ms}] of container `id` in the log text `log`; ms after the epoch-ms time `t0` (undefined when missing). */
export function milestonesOf(log, id, t0) {
  const lines = log.split('\n').filter((l) => l.includes(`tid=${id}`) || l.includes(`id=${id}`) || l.includes(`cid=${id}`));
  const at = (re) => {
    const l = lines.find((x) => re.test(x));
    const m = l && /time="([^"]+)"/.exec(l);
    return m ? Date.parse(m[1]) - t0 : undefined;
  };
  return MILESTONES.map(([name, re]) => ({ name, ms: at(re) }));
}
