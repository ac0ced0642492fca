import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { HttpProblem } from './problem.js';

/** What a token lets its bearer do: POST /ingest, or GET /stats and /anomalies. */
export type Scope = 'ingest' | 'read';

const REALM = 'metrics-pipeline';

/** SHA-256 digests of each scope's tokens; null where the scope is open (its variable unset). */
export interface AccessPolicy {
  readonly ingest: readonly Buffer[] | null;
  readonly read: readonly Buffer[] | null;
}

export function createAccessPolicy(tokens: { readonly ingest: readonly string[]; readonly read: readonly string[] }): AccessPolicy {
  const digests = (list: readonly string[]) => (list.length === 0 ? null : list.map(sha256));
  return { ingest: digests(tokens.ingest), read: digests(tokens.read) };
}

/**
 * The api's one token check, called by the node:http ingest path and by the Express routes
 * ({@link requireToken}). Returns when the scope is open or `authorization` carries one of its
 * tokens; throws a 401 problem for a missing, malformed or unknown token and a 403 problem for a
 * token of the other scope. The presented token is hashed and compared with every configured
 * digest of both scopes, each comparison constant-time and none skipped, so the time taken says
 * nothing about which token matched or how much of one did.
 */
export function authorize(policy: AccessPolicy, scope: Scope, authorization: string | undefined): void {
  const own = policy[scope];
  if (own === null) return;
  const token = bearerToken(authorization);
  if (token === null) throw unauthorized(scope, authorization === undefined ? 'missing' : 'malformed');
  const digest = sha256(token);
  const inOwn = matchesAny(digest, own);
  const inOther = matchesAny(digest, policy[scope === 'ingest' ? 'read' : 'ingest'] ?? []);
  if (inOwn) return;
  if (inOther) throw forbidden(scope);
  throw unauthorized(scope, 'invalid');
}

/** {@link authorize} as Express middleware: Express 5 passes the thrown problem to the error handler. */
export function requireToken(policy: AccessPolicy, scope: Scope): RequestHandler {
  return (req, _res, next) => {
    authorize(policy, scope, req.headers.authorization);
    next();
  };
}

/** The token of `Bearer <token>` (scheme case-insensitive, RFC 9110), or null. */
function bearerToken(header: string | undefined): string | null {
  const match = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i.exec(header ?? '');
  return match ? match[1]! : null;
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

function matchesAny(digest: Buffer, candidates: readonly Buffer[]): boolean {
  let found = 0;
  for (const candidate of candidates) found |= timingSafeEqual(digest, candidate) ? 1 : 0;
  return found === 1;
}

function unauthorized(scope: Scope, why: 'missing' | 'malformed' | 'invalid'): HttpProblem {
  const detail = {
    missing: `send a ${scope} token: Authorization: Bearer <token>`,
    malformed: `the Authorization header is not "Bearer <token>"; send a ${scope} token`,
    invalid: `the bearer token is not a valid ${scope} token`,
  }[why];
  // RFC 6750 §3: no error code when no credentials were sent, invalid_token otherwise.
  const challenge = why === 'missing' ? `Bearer realm="${REALM}"` : `Bearer realm="${REALM}", error="invalid_token"`;
  return new HttpProblem(401, 'unauthorized', 'Unauthorized', detail, [], { 'www-authenticate': challenge });
}

function forbidden(scope: Scope): HttpProblem {
  const other = scope === 'ingest' ? 'read' : 'ingest';
  return new HttpProblem(403, 'forbidden', 'Forbidden', `this is a ${other} token; ${scope === 'ingest' ? 'POST /ingest' : 'this route'} needs a ${scope} token`, [], {
    'www-authenticate': `Bearer realm="${REALM}", error="insufficient_scope"`,
  });
}
