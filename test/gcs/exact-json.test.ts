import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
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

  it('loads node:crypto (for its nonce) only when a message has a big integer, in a fresh process', () => {
    const mod = new URL('../../src/gcs/protocol/index.js', import.meta.url).href;
    const probe = (body: string): boolean =>
      execFileSync(process.execPath, ['--input-type=module', '-e', `const p = await import(${JSON.stringify(mod)}); ${body}; console.log(process.moduleLoadList.includes('NativeModule crypto'));`], {
        encoding: 'utf8',
      }).trim() === 'true';
    const small = "p.stringifyExact(p.parseJsonExact('{\"a\":[1,2.5,\"x\",9007199254740991]}'))";
    assert.equal(probe(small), false);
    assert.equal(probe("p.parseJsonExact('{\"a\":9223372036854771712}')"), true);
    assert.equal(probe('p.stringifyExact({ a: 1n })'), true);
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
