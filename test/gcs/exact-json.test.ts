import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fromJsonString, parseJsonExact, stringifyExact, toJsonString } from '../../src/gcs/protocol/index.js';

describe('JSON with exact uint64 values', () => {
  const big = '{"hierarchical_memory_limit":9223372036854771712,"max":18446744073709551615,"n":-9007199254740993,"small":42,"f":1.5e300,"s":"9223372036854771712 \\" 123456789012345678"}';

  it('reads integers beyond 2^53 as bigints, everything else as JSON.parse does', () => {
    assert.deepEqual(parseJsonExact(big), {
      hierarchical_memory_limit: 9223372036854771712n,
      max: 18446744073709551615n,
      n: -9007199254740993n,
      small: 42,
      f: 1.5e300,
      s: '9223372036854771712 " 123456789012345678',
    });
    assert.equal(JSON.parse(big).hierarchical_memory_limit, 9223372036854772000); // what plain JSON makes of it
    assert.deepEqual(parseJsonExact('[9007199254740991, 9007199254740992]'), [9007199254740991, 9007199254740992n]);
    assert.throws(() => parseJsonExact('{"a": 12345678901234567890'), SyntaxError);
  });

  it('never loads node:crypto, with or without a big integer (its nonce comes from src/random), in a fresh process', () => {
    const mod = new URL('../../src/gcs/protocol/index.js', import.meta.url).href;
    const dir = mkdtempSync(join(tmpdir(), 'exact-json.'));
    // A file, not `node -e`: Node's eval path loads node:crypto itself.
    const probe = (body: string): string[] => {
      const file = join(dir, `probe-${Math.random().toString(36).slice(2)}.mjs`);
      writeFileSync(file, `const p = await import(${JSON.stringify(mod)}); ${body};\nconsole.log(JSON.stringify(process.moduleLoadList.filter((m) => /crypto/.test(m))));\n`);
      return JSON.parse(execFileSync(process.execPath, [file], { encoding: 'utf8' })) as string[];
    };
    try {
      assert.deepEqual(probe("p.stringifyExact(p.parseJsonExact('{\"a\":[1,2.5,\"x\",9007199254740991]}'))"), []);
      assert.deepEqual(probe("if (p.parseJsonExact('{\"a\":9223372036854771712}').a !== 9223372036854771712n) throw new Error('not exact')"), []);
      assert.deepEqual(probe("if (p.stringifyExact({ a: 1n }) !== '{\"a\":1}') throw new Error('not exact')"), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes bigints as their digits, and round-trips', () => {
    const text = stringifyExact({ a: 9223372036854771712n, b: [1n, 2], c: 'x' });
    assert.equal(text, '{"a":9223372036854771712,"b":[1,2],"c":"x"}');
    assert.equal(stringifyExact(parseJsonExact(big)), big.replace('1.5e300', '1.5e+300'));
  });

  it('JSON-in-a-string fields: toJsonString is exact, fromJsonString only when asked', () => {
    const inner = toJsonString({ LCOWMetrics: { memory: { usage: { limit: 9223372036854771712n } } } });
    assert.equal(inner, '{"LCOWMetrics":{"memory":{"usage":{"limit":9223372036854771712}}}}');
    const wire = JSON.parse(JSON.stringify({ Properties: inner })) as { Properties: string };
    assert.deepEqual(fromJsonString(wire.Properties, 'Properties', { exact: true }), { LCOWMetrics: { memory: { usage: { limit: 9223372036854771712n } } } });
    assert.equal((fromJsonString<{ LCOWMetrics: { memory: { usage: { limit: number } } } }>(wire.Properties, 'Properties'))!.LCOWMetrics.memory.usage.limit, 9223372036854772000);
  });
});
