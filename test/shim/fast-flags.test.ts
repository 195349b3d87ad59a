/**
 * The fast flag path (src/shim/fast-flags.ts): for every command line it accepts it must give exactly what
 * the yargs parser gives; everything else it must hand back (undefined) instead of guessing.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseContainerdFlags } from '../../src/shim/fast-flags.js';
import { parseShimFlags } from '../../src/shim/flags.js';

const BASE = ['-namespace', 'default', '-address', '/run/containerd/containerd.sock', '-publish-binary', '/usr/bin/containerd', '-id', 't1'];

describe('fast shim flags', () => {
  const accepted: string[][] = [
    [...BASE, 'start'],
    [...BASE, '-debug', 'start'],
    [...BASE, '-bundle', '/run/b/t1', '-debug', 'delete'],
    [...BASE, '-bundle', '/run/b/t1', '-socket', '/s/x', 'serve'],
    [...BASE, '-bundle', '/run/b/t1', '-socket', '/s/x'],
    ['--namespace', 'ns', '--id=t2', '-address=/a', 'delete'],
    ['-namespace', '', '-id', '', 'start'],
    ['-id', '123', 'start'],
    [],
  ];
  for (const argv of accepted) {
    it(`agrees with yargs on ${JSON.stringify(argv)}`, () => {
      const fast = parseContainerdFlags(argv);
      assert.notEqual(fast, undefined);
      assert.deepEqual(fast, parseShimFlags(argv));
    });
  }

  const declined: string[][] = [
    [...BASE, 'uvm-doc', '--options', 'f'],
    [...BASE, 'start', 'extra'],
    [...BASE, 'bogus'],
    [...BASE, '-debug=true', 'start'],
    [...BASE, '-debug', 'false', 'start'],
    [...BASE, '-id', 't2', 'start'],
    [...BASE, '-unknown', 'x', 'start'],
    ['-id', '-x', 'start'],
    ['-id'],
    ['-h'],
    ['--help'],
    ['-v'],
    ['--version'],
    ['-', 'start'],
  ];
  for (const argv of declined) {
    it(`hands ${JSON.stringify(argv)} to yargs`, () => {
      assert.equal(parseContainerdFlags(argv), undefined);
    });
  }
});
