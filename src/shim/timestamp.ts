/** google.protobuf.Timestamp ↔ Date, at the edge only. */
export interface TimestampFields {
  seconds?: number | null;
  nanos?: number | null;
}

export function toTimestamp(date: Date): { seconds: number; nanos: number } {
  const ms = date.getTime();
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: (ms - seconds * 1000) * 1e6 };
}

export function fromTimestamp(ts: TimestampFields | null | undefined): Date | undefined {
  if (!ts || (!ts.seconds && !ts.nanos)) return undefined;
  return new Date((ts.seconds ?? 0) * 1000 + Math.floor((ts.nanos ?? 0) / 1e6));
}
