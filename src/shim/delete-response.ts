/**
 * The DeleteResponse `delete` prints (containerd.task.v2.DeleteResponse: uint32 pid = 1, uint32
 * exit_status = 2, google.protobuf.Timestamp exited_at = 3 {int64 seconds = 1, int32 nanos = 2}), encoded
 * by hand: the one message `delete` writes would otherwise load protobufjs and every generated type
 * (~400 kB of code) into a process containerd runs after every task. Bytes are those of the generated
 * encoder (proto3: zero scalars omitted, fields in number order); test/shim/delete-response.test.ts
 * compares the two.
 */

/** Appends `v` (a non-negative integer below 2^53) as a base-128 varint. */
function varint(out: number[], v: number): void {
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}

function uintField(out: number[], field: number, v: number): void {
  if (v === 0) return;
  varint(out, field << 3); // wire type 0
  varint(out, v);
}

export interface DeleteResponseFields {
  readonly pid: number;
  readonly exitStatus: number;
  /** Milliseconds since the epoch (not before it). */
  readonly exitedAtMs: number;
}

export function encodeDeleteResponse(r: DeleteResponseFields): Uint8Array {
  const ts: number[] = [];
  uintField(ts, 1, Math.floor(r.exitedAtMs / 1000));
  uintField(ts, 2, (r.exitedAtMs % 1000) * 1e6);
  const out: number[] = [];
  uintField(out, 1, r.pid >>> 0);
  uintField(out, 2, r.exitStatus >>> 0);
  out.push((3 << 3) | 2, ts.length, ...ts); // a Timestamp is at most 17 bytes: one length byte
  return Uint8Array.from(out);
}
