// Redis stream ids ("<ms>-<seq>") as comparable numbers.

/** A parsed stream id; both parts fit a double exactly (ms < 2^53, seq small). */
export interface StreamId {
  readonly ms: number;
  readonly seq: number;
}

export function parseId(id: string): StreamId {
  const dash = id.indexOf('-');
  if (dash < 0) return { ms: Number(id), seq: 0 };
  return { ms: Number(id.slice(0, dash)), seq: Number(id.slice(dash + 1)) };
}

/** Negative, zero or positive as a is before, equal to or after b in stream order. */
export function compareParsed(a: StreamId, b: StreamId): number {
  return a.ms !== b.ms ? a.ms - b.ms : a.seq - b.seq;
}
