/**
 * The ConnectResponse containerd asks every shim it loads for, and polls (containerd.task.v2.ConnectResponse:
 * uint32 shim_pid = 1, uint32 task_pid = 2, string version = 3), encoded by hand for the reply the shim gives
 * (an empty version): the generated encoder's Writer (an op list, then a copy) was a visible share of a
 * Connect call. Same bytes as the generated encoder (proto3: a zero scalar omitted, fields in number order,
 * uint32 written as v >>> 0); test/shim/connect-response.test.ts compares the two. Undefined for a non-empty
 * version: the caller uses the generated encoder then.
 */
export function encodeConnectResponse(shimPid: number, taskPid: number, version: string): Uint8Array | undefined {
  if (version !== '') return undefined;
  const out = new Uint8Array(12); // two tags and two uint32 varints of at most 5 bytes
  const pos = uint32Field(out, uint32Field(out, 0, 0x08, shimPid), 0x10, taskPid);
  return out.subarray(0, pos);
}

/** Writes tag and `v >>> 0` as a varint at pos unless v is 0; returns the position after. */
function uint32Field(out: Uint8Array, pos: number, tag: number, v: number): number {
  if (v === 0) return pos;
  out[pos++] = tag;
  let n = v >>> 0;
  while (n >= 0x80) {
    out[pos++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  out[pos++] = n;
  return pos;
}
