/**
 * What containerd writes to `start`'s stdin, encoded by hand from the wire facts (tag = field << 3 | wire type),
 * independent of the generated codec under test: containerd 2.3+'s BootstrapParams (containerd api v1.12.0
 * runtime/bootstrap/v1) and the legacy google.protobuf.Any of the runtime options.
 */
const enc = new TextEncoder();

function varint(n: bigint): number[] {
  let v = BigInt.asUintN(64, n); // negative enums are sign-extended to 10 bytes, as Go writes them
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}

const bytesField = (field: number, value: Uint8Array): Uint8Array =>
  Uint8Array.from([...varint(BigInt((field << 3) | 2)), ...varint(BigInt(value.length)), ...value]);
const stringField = (field: number, value: string): Uint8Array => bytesField(field, enc.encode(value));
const varintField = (field: number, value: number | bigint): Uint8Array =>
  Uint8Array.from([...varint(BigInt(field << 3)), ...varint(BigInt(value))]);
const concat = (parts: Uint8Array[]): Uint8Array => Uint8Array.from(parts.flatMap((p) => [...p]));

/** google.protobuf.Any {type_url = 1, value = 2}. */
export const anyBytes = (typeUrl: string, value: Uint8Array): Uint8Array => concat([stringField(1, typeUrl), bytesField(2, value)]);

/** containerd.runhcs.v1.Options {debug = 1, log_level = 16}. */
export function runhcsOptionsBytes(o: { debug?: boolean; logLevel?: string }): Uint8Array {
  return concat([...(o.debug ? [varintField(1, 1)] : []), ...(o.logLevel ? [stringField(16, o.logLevel)] : [])]);
}

export interface ParamsSpec {
  id: string;
  namespace: string;
  logLevel?: number;
  version?: string;
  socketDir?: string;
  ttrpcAddress?: string;
  extensions?: { typeUrl: string; value: Uint8Array }[];
}

/** BootstrapParams as containerd v2.4.2 fills it (core/runtime/v2/command.go). */
export function bootstrapParamsBytes(p: ParamsSpec): Uint8Array {
  return concat([
    stringField(1, p.id),
    stringField(2, p.namespace),
    ...(p.logLevel ? [varintField(3, p.logLevel)] : []),
    stringField(4, p.version ?? '2.4.2'),
    stringField(5, p.ttrpcAddress ?? '/run/containerd/containerd.sock.ttrpc'),
    stringField(6, '/run/containerd/containerd.sock'),
    stringField(7, '/usr/bin/containerd'),
    ...(p.extensions ?? []).map((e) => bytesField(8, bytesField(1, anyBytes(e.typeUrl, e.value)))),
    ...(p.socketDir !== undefined ? [stringField(9, p.socketDir)] : []),
  ]);
}
