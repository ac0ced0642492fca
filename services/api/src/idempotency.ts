// The Idempotency-Key protocol of POST /ingest (draft-ietf-httpapi-idempotency-key-header), its
// pure parts: reading the header, the request's fingerprint, and the problems it answers with.
// The record itself is kept by append-idempotent-1.lua.
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { HttpProblem } from './problem.js';

/** Longest Idempotency-Key accepted, in characters. */
export const IDEMPOTENCY_KEY_MAX_LENGTH = 128;

// Visible ASCII only: no space or control character can split or blur the Redis key it becomes.
const VALID_KEY = new RegExp(`^[\\x21-\\x7e]{1,${IDEMPOTENCY_KEY_MAX_LENGTH}}$`);

/**
 * The request's `Idempotency-Key` (draft-ietf-httpapi-idempotency-key-header), or undefined when
 * it has none. The value is taken as it is sent, opaque (a quoted sf-string keeps its quotes).
 * Throws a 400 problem for an empty, too long or non-visible-ASCII value, or for the header sent
 * more than once (Node would join the values with ", ").
 */
export function idempotencyKeyOf(req: IncomingMessage): string | undefined {
  const value = req.headers['idempotency-key'];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || (req.headersDistinct['idempotency-key']?.length ?? 1) > 1) throw invalidKey('must be sent once');
  return checkIdempotencyKey(value);
}

/** `value` if it is a valid key; else throws the 400 problem naming the header. */
export function checkIdempotencyKey(value: string): string {
  if (VALID_KEY.test(value)) return value;
  if (value.length === 0) throw invalidKey('must not be empty');
  if (value.length > IDEMPOTENCY_KEY_MAX_LENGTH) throw invalidKey(`must be at most ${IDEMPOTENCY_KEY_MAX_LENGTH} characters (got ${value.length})`);
  throw invalidKey('must be visible ASCII characters only (0x21-0x7E: no space, control or non-ASCII character)');
}

function invalidKey(message: string): HttpProblem {
  return new HttpProblem(400, 'invalid-idempotency-key', 'Invalid Idempotency-Key', `header Idempotency-Key: ${message}`, [
    { field: '(idempotency-key)', pointer: '', message },
  ]);
}

/**
 * SHA-256 (hex) of the body's bytes as received. Not of the validated metrics: a metric without a
 * timestamp gets the server's time, so a resent request would never match its first attempt.
 */
export function requestFingerprint(body: Buffer): string {
  return createHash('sha256').update(body).digest('hex');
}

/** 422: the key's record holds another body's fingerprint. */
export function keyReused(): HttpProblem {
  return new HttpProblem(
    422,
    'idempotency-key-reused',
    'Idempotency Key Reused',
    'header Idempotency-Key: this key was already used with a different body; send a new key for a new request',
    [{ field: '(idempotency-key)', pointer: '', message: 'was already used with a different body' }],
  );
}
