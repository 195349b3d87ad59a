/**
 * JSON with exact 64-bit integers. The GCS is written in Go: a uint64 such as a cgroup's
 * hierarchical_memory_limit (9223372036854771712, 2^63 − 4096) is printed as its exact digits, which
 * JSON.parse rounds to the nearest double (…4772000) and JSON.stringify cannot produce from a number. Here
 * an integer literal beyond Number.MAX_SAFE_INTEGER is read as a bigint, and a bigint is written as its digits.
 */
import { randomBytes } from '../../random/index.js';

const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * A fresh marker for one parse or stringify: 6 bytes of OS randomness, so no string the peer sent can be taken
 * for a big integer. Made only when a big integer is met (most messages have none), from src/random (the
 * kernel's random device on Linux), so neither the guest agent nor the daemon loads node:crypto for it (0.64 MB
 * RSS with its ~20 internal modules).
 */
function freshTag(): string {
  return `exact-${randomBytes(6).toString('hex')}:`;
}

/** JSON.parse, except that integers outside ±2^53−1 become bigints (exact). Throws SyntaxError like JSON.parse. */
export function parseJsonExact(text: string): unknown {
  // Each big literal becomes the string "\u0000<nonce>:<digits>"; only this parse knows the nonce.
  let tag: string | undefined;
  let out = '';
  let last = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) {
      inString = true;
      continue;
    }
    if (c !== 0x2d && (c < 0x30 || c > 0x39)) continue;
    let j = i + 1;
    while (j < text.length && /[0-9.eE+-]/.test(text[j]!)) j++;
    const token = text.slice(i, j);
    if (/^-?\d{16,}$/.test(token)) {
      const n = BigInt(token);
      if (n > SAFE || n < -SAFE) {
        tag ??= freshTag();
        out += `${text.slice(last, i)}"\\u0000${tag}${token}"`;
        last = j;
      }
    }
    i = j - 1;
  }
  if (last === 0 || tag === undefined) return JSON.parse(text);
  const marker = `\u0000${tag}`;
  return JSON.parse(out + text.slice(last), (_k, v: unknown) =>
    typeof v === 'string' && v.startsWith(marker) ? BigInt(v.slice(marker.length)) : v,
  );
}

/** JSON.stringify that writes bigints as their exact digits. */
export function stringifyExact(value: unknown): string {
  let tag: string | undefined;
  const text = JSON.stringify(value ?? null, (_k, v: unknown) => {
    if (typeof v !== 'bigint') return v;
    tag ??= freshTag();
    return tag + v.toString();
  });
  return tag !== undefined ? text.replace(new RegExp(`"${tag}(-?\\d+)"`, 'g'), '$1') : text;
}
