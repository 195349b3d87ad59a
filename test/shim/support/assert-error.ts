import assert from 'node:assert/strict';
import { ErrorCode, ShimError } from '../../../src/errdefs/index.js';

/** Asserts that `p` rejects with a ShimError of `code` whose message matches `message` (when given). */
export async function rejectsWith(p: Promise<unknown>, code: ErrorCode, message?: RegExp): Promise<ShimError> {
  let caught: unknown;
  try {
    await p;
  } catch (err) {
    caught = err;
  }
  assert.ok(caught !== undefined, `expected a ShimError (${code}), but the call succeeded`);
  assert.ok(caught instanceof ShimError, `expected a ShimError (${code}), got ${String(caught)}`);
  assert.equal(caught.code, code, `wrong code for: ${caught.message}`);
  if (message) assert.match(caught.message, message);
  return caught;
}
