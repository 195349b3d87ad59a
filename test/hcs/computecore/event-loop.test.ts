import assert from 'node:assert/strict';
import { test } from 'node:test';
import { useComputecoreDouble } from './harness.js';

const h = useComputecoreDouble();

test('a 2-second blocking wait does not hold up a 50 ms timer on the event loop', async () => {
  const sys = await (await h.api()).createComputeSystem('loop', { Owner: 'o' });
  h.dbl.script('HcsGetComputeSystemProperties', { delayMs: 2000, doc: '{"Id":"loop"}' });
  let waitSettled = false;
  let timerSawPendingWait: boolean | undefined;
  const wait = sys.properties().finally(() => (waitSettled = true));
  const timer = new Promise<void>((resolve) =>
    setTimeout(() => {
      timerSawPendingWait = !waitSettled;
      resolve();
    }, 50),
  );
  await timer;
  assert.equal(timerSawPendingWait, true, 'the timer fired while the native wait was still blocking');
  const props = await wait;
  assert.equal(props.Id, 'loop');
  assert.equal(waitSettled, true);
  await sys.close();
});
