import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NAMESPACE_METADATA_KEY, metadataFromPairs, metadataToPairs, metadataValue } from '../../src/ttrpc/index.js';

describe('metadata', () => {
  it('lower-cases keys and keeps repeated keys in order', () => {
    const md = metadataFromPairs([
      { key: 'X-Trace', value: 'a' },
      { key: 'x-trace', value: 'b' },
      { key: 'Containerd-Namespace-TTRPC', value: 'default' },
    ]);
    assert.deepEqual([...md], [
      ['x-trace', ['a', 'b']],
      ['containerd-namespace-ttrpc', ['default']],
    ]);
    assert.equal(metadataValue(md, NAMESPACE_METADATA_KEY), 'default');
    assert.equal(metadataValue(md, 'X-TRACE'), 'a');
    assert.equal(metadataValue(md, 'absent'), undefined);
  });

  it('treats missing key or value fields as empty strings', () => {
    assert.deepEqual([...metadataFromPairs([{}])], [['', ['']]]);
    assert.deepEqual([...metadataFromPairs(undefined)], []);
  });

  it('flattens records and pair lists into wire pairs', () => {
    assert.deepEqual(metadataToPairs({ A: 'x', b: ['y', 'z'] }), [
      { key: 'a', value: 'x' },
      { key: 'b', value: 'y' },
      { key: 'b', value: 'z' },
    ]);
    assert.deepEqual(metadataToPairs([['K', '1'], ['k', '2']]), [
      { key: 'k', value: '1' },
      { key: 'k', value: '2' },
    ]);
    assert.deepEqual(metadataToPairs(undefined), []);
  });
});
