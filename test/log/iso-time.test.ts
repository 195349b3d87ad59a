/** isoTime: the same text as Date.prototype.toISOString, without its ICU time zone lookup. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isoTime } from '../../src/log/index.js';

const MAX_4_DIGIT_YEAR = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

describe('isoTime', () => {
  it('writes what toISOString writes at the edges of each field', () => {
    const cases = [
      0,
      1,
      999,
      Date.UTC(2000, 1, 29, 23, 59, 59, 999),
      Date.UTC(2024, 0, 2, 3, 4, 5, 60),
      Date.UTC(1969, 11, 31, 23, 59, 59, 999),
      -62009366400000, // 0005-01-01: four digits
      -62167219200000, // 0000-01-01T00:00:00.000Z
      MAX_4_DIGIT_YEAR,
    ];
    for (const ms of cases) assert.equal(isoTime(ms), new Date(ms).toISOString(), String(ms));
  });

  it('writes what toISOString writes for 20000 instants between year 0000 and 9999', () => {
    let seed = 12345;
    const next = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 20000; i++) {
      const ms = Math.floor(-62167219200000 + next() * (MAX_4_DIGIT_YEAR + 62167219200000));
      assert.equal(isoTime(ms), new Date(ms).toISOString(), String(ms));
    }
  });

  it("leaves years outside 0000–9999 to toISOString, and throws its RangeError for an invalid time", () => {
    for (const ms of [MAX_4_DIGIT_YEAR + 1, -62167219200001, 8.64e15, -8.64e15]) assert.equal(isoTime(ms), new Date(ms).toISOString());
    assert.throws(() => isoTime(Number.NaN), RangeError);
  });

  it('defaults to now', () => {
    const before = Date.now();
    const t = Date.parse(isoTime());
    assert.ok(t >= before && t <= Date.now(), `${t} not in [${before}, now]`);
  });
});
