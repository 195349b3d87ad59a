/**
 * SHA-256 (FIPS 180-4, section 6.2) of a short input, in hex, written out here so that the shim can name its
 * socket (shim-address.ts) without node:crypto: loading it costs a Node process ~20 internal modules and
 * OpenSSL's initialisation, and the `serve` daemon, which computes its own socket path when the executable's
 * sh `start` runs it, needs nothing else of it (src/random reads /dev/urandom). One call hashes one message:
 * socket names are a few hundred bytes at most, so there is no streaming interface.
 */

/** K: the first 32 bits of the fractional parts of the cube roots of the first 64 primes (FIPS 180-4 4.2.2). */
const K = Uint32Array.of(
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
);

/** H(0): the first 32 bits of the fractional parts of the square roots of the first 8 primes (FIPS 180-4 5.3.3). */
const H0 = Uint32Array.of(0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19);

const HEX_DIGITS = '0123456789abcdef';

const rotr = (x: number, n: number): number => (x >>> n) | (x << (32 - n));

/**
 * The padded message (5.1.1): the bytes, a 1 bit, zeros, then the length in bits as a 64-bit big-endian
 * integer, to a multiple of 64 bytes.
 */
function pad(message: Uint8Array): DataView {
  const blocks = Math.ceil((message.length + 9) / 64);
  const padded = new Uint8Array(blocks * 64);
  padded.set(message);
  padded[message.length] = 0x80;
  const view = new DataView(padded.buffer);
  const bits = message.length * 8;
  view.setUint32(padded.length - 8, Math.floor(bits / 2 ** 32));
  view.setUint32(padded.length - 4, bits >>> 0);
  return view;
}

/** SHA-256 of `message` (a string is hashed as its UTF-8 bytes, as node:crypto's update(string) does), 64 hex digits. */
export function sha256Hex(message: Uint8Array | string): string {
  const bytes = typeof message === 'string' ? Buffer.from(message, 'utf8') : message;
  const view = pad(bytes);
  const h = Uint32Array.from(H0);
  const w = new Uint32Array(64);
  for (let block = 0; block < view.byteLength; block += 64) {
    // 6.2.2 step 1: the message schedule
    for (let t = 0; t < 16; t++) w[t] = view.getUint32(block + t * 4);
    for (let t = 16; t < 64; t++) {
      const w15 = w[t - 15]!;
      const w2 = w[t - 2]!;
      const s0 = rotr(w15, 7) ^ rotr(w15, 18) ^ (w15 >>> 3);
      const s1 = rotr(w2, 17) ^ rotr(w2, 19) ^ (w2 >>> 10);
      w[t] = w[t - 16]! + s0 + w[t - 7]! + s1;
    }
    // steps 2-4: the working variables, 64 rounds, the intermediate hash value
    let a = h[0]!, b = h[1]!, c = h[2]!, d = h[3]!, e = h[4]!, f = h[5]!, g = h[6]!, hh = h[7]!;
    for (let t = 0; t < 64; t++) {
      const t1 = (hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[t]! + w[t]!) >>> 0;
      const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) >>> 0;
      hh = g;
      g = f;
      f = e;
      e = (d + t1) >>> 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) >>> 0;
    }
    h[0] = h[0]! + a;
    h[1] = h[1]! + b;
    h[2] = h[2]! + c;
    h[3] = h[3]! + d;
    h[4] = h[4]! + e;
    h[5] = h[5]! + f;
    h[6] = h[6]! + g;
    h[7] = h[7]! + hh;
  }
  // Digits by nibble: Number#toString(16) of a word above 2^31 (a heap number) runs V8's double-to-radix
  // conversion, which maps ~60 KB of libm into the daemon for its life (measured: the daemon's RSS).
  let hex = '';
  for (const word of h) {
    for (let shift = 28; shift >= 0; shift -= 4) hex += HEX_DIGITS[(word >>> shift) & 15];
  }
  return hex;
}
