// The 202 bodies of POST /ingest. append-idempotent-1.lua builds the same bytes in Redis for the
// record it keeps, so that a replayed answer equals the original (a test compares the two).

/** The 202 body for one metric (a JSON object was posted). */
export function acceptedOne(id: string): string {
  return JSON.stringify({ status: 'accepted', id });
}

/** The 202 body for a batch (a JSON array was posted, of any length). */
export function acceptedBatch(ids: readonly string[]): string {
  return JSON.stringify({ status: 'accepted', accepted: ids.length, ids });
}
