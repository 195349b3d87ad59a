/** `delete` echoes <bundle>/panic.log: the first MiB, nothing when it is missing or empty. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { PANIC_LOG_ECHO_BYTES, readPanicLog } from '../../src/shim/panic-log.js';

const dir = mkdtempSync(join(tmpdir(), 'panic-log-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('missing or empty: nothing to echo', () => {
  assert.equal(readPanicLog(dir), undefined);
  writeFileSync(join(dir, 'panic.log'), '');
  assert.equal(readPanicLog(dir), undefined);
});

test('the text, cut at the first MiB', () => {
  writeFileSync(join(dir, 'panic.log'), 'boom\n');
  assert.equal(readPanicLog(dir), 'boom\n');
  writeFileSync(join(dir, 'panic.log'), 'a'.repeat(PANIC_LOG_ECHO_BYTES) + 'TAIL');
  const text = readPanicLog(dir) ?? '';
  assert.equal(text.length, PANIC_LOG_ECHO_BYTES);
  assert.ok(!text.includes('TAIL'));
  assert.equal(readPanicLog(dir, 3), 'aaa');
});
