/**
 * Our SHA-256 (src/transport/sha256.ts) against node:crypto's and FIPS 180-4's published examples: the empty
 * message, every length around the padding's boundaries (55 bytes fit one block with the length, 56 do not;
 * 64 is one whole block), multi-block inputs, all byte values, and strings hashed as UTF-8. Also the socket
 * path shim-address.ts builds from it.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { sha256Hex } from '../../src/transport/sha256.js';
import { unixShimSocketPath } from '../../src/transport/index.js';

const reference = (m: Uint8Array | string): string => createHash('sha256').update(m).digest('hex');

describe('sha256Hex', () => {
  it('FIPS 180-4 / NIST example vectors', () => {
    assert.equal(sha256Hex(''), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    assert.equal(sha256Hex('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    assert.equal(sha256Hex('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'),
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
    assert.equal(sha256Hex('a'.repeat(1_000_000)), 'cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0');
  });

  it('equals node:crypto at every length from 0 to 200 bytes (the 55/56/64-byte boundaries and multi-block inputs)', () => {
    const data = randomBytes(200);
    for (let n = 0; n <= 200; n++) {
      const m = data.subarray(0, n);
      assert.equal(sha256Hex(m), reference(m), `${n} bytes`);
    }
    for (const n of [511, 512, 513, 4096, 65_537]) {
      const m = randomBytes(n);
      assert.equal(sha256Hex(m), reference(m), `${n} bytes`);
    }
  });

  it('every byte value, and strings as their UTF-8 bytes', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    assert.equal(sha256Hex(all), reference(all));
    assert.equal(sha256Hex(new Uint8Array(64).fill(0xff)), reference(new Uint8Array(64).fill(0xff)));
    for (const s of ['/run/containerd/containerd.sock/default/nginx', 'ünïcödé/ns/id', '\u{1f600}'.repeat(20), 'x'.repeat(119)]) {
      assert.equal(sha256Hex(s), reference(s), s);
    }
  });

  it('is what the shim socket path is made of: <dir>/<sha256 of filepath.Join(address, ns, id)>', () => {
    const path = unixShimSocketPath('/run/containerd/containerd.sock', 'k8s.io', 'abc', { LCOW_SHIM_SOCKET_DIR: '/run/containerd/s' });
    assert.equal(path, `/run/containerd/s/${reference('/run/containerd/containerd.sock/k8s.io/abc')}`);
    // filepath.Join cleans: a trailing slash and a dot segment name the same socket
    assert.equal(unixShimSocketPath('/run/containerd/containerd.sock/', 'k8s.io', './abc', { LCOW_SHIM_SOCKET_DIR: '/run/containerd/s' }), path);
  });
});
