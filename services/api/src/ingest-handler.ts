import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '@pipeline/logger';
import type { Metric } from '@pipeline/metric';
import { acceptedBatch, acceptedOne } from './accepted-body.js';
import { authorize, type AccessPolicy } from './access.js';
import type { BacklogMonitor } from './backlog-monitor.js';
import type { EventStore, IdempotentAppend } from './event-store.js';
import { idempotencyKeyOf, keyReused, requestFingerprint } from './idempotency.js';
import { validateIngestBody, withTimestamps } from './ingest-validation.js';
import { observeRequest, type ApiMetrics } from './metrics.js';
import { HttpProblem, sendProblem, unavailable } from './problem.js';
import { parseJsonBytes, readJsonBytes } from './request-body.js';

export interface IngestDeps {
  readonly store: EventStore;
  readonly backlog: BacklogMonitor;
  readonly metrics: ApiMetrics;
  readonly log: Logger;
  readonly access: AccessPolicy;
  readonly maxBatch: number;
  readonly maxBodyBytes: number;
  /** Lifetime of an Idempotency-Key's record. */
  readonly idempotencyTtlSeconds: number;
}

const ROUTE = '/ingest';

const backpressure = () =>
  new HttpProblem(503, 'backpressure', 'Service Unavailable', 'the analyzers are behind (backlog reached MAX_BACKLOG); retry later', [], {
    'retry-after': '1',
  });

/**
 * POST /ingest on bare node:http: the hot path does not pay Express's per-request cost. Same
 * problem+json answers and metrics as the Express routes. 202 only after Redis has the entries.
 */
export function createIngestHandler(deps: IngestDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const log = deps.log.child({ module: 'ingest' });
  return (req, res) => {
    const started = process.hrtime.bigint();
    res.once('finish', () => observeRequest(deps.metrics, 'POST', ROUTE, res.statusCode, started));
    ingest(req, res).catch((err: unknown) => {
      const problem = err instanceof HttpProblem ? err : unavailable('the metrics could not be stored');
      if (!(err instanceof HttpProblem)) log.warn({ err }, 'ingest failed');
      deps.metrics.eventsRejected.inc({ reason: problem.kind }, (err as { events?: number }).events ?? 1);
      if (res.headersSent) return void res.destroy();
      // A caller without a valid token does not get its body read to the end for the sake of
      // keeping the connection: it is closed instead.
      if ((problem.status === 401 || problem.status === 403) && !req.complete) res.setHeader('connection', 'close');
      sendProblem(res, problem, ROUTE);
    });
  };

  async function ingest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    authorize(deps.access, 'ingest', req.headers.authorization);
    // A bad key is the client's to fix, not to retry: refused before backpressure's 503.
    const key = idempotencyKeyOf(req);
    if (deps.backlog.overLimit) throw backpressure();
    const sent = send(await readJsonBytes(req, deps.maxBodyBytes), key);
    if ('stored' in sent) return answerIdempotent(res, sent.events, sent.stored);
    let payload: string;
    try {
      payload = await sent.payload;
    } catch (err) {
      throw Object.assign(unavailable('the metrics could not be stored'), { events: sent.events, cause: err });
    }
    deps.metrics.eventsAccepted.inc(sent.events);
    res.writeHead(202, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
    res.end(payload);
  }

  /**
   * Parses, validates and sends a body to Redis. Synchronous on purpose: while Redis works, only
   * what it was sent stays reachable, so the parsed body (a thousand objects for a batch) dies
   * young instead of being promoted into the old generation (the api's RSS under batch load).
   */
  function send(bytes: Buffer, key: string | undefined): Sent {
    const body = parseJsonBytes(bytes);
    const events = Array.isArray(body) ? body.length : 1;
    let metrics: Metric[];
    try {
      metrics = withTimestamps(validateIngestBody(body, deps.maxBatch), Date.now() / 1000);
    } catch (err) {
      throw Object.assign(err as Error, { events });
    }
    if (key !== undefined) {
      const shape = Array.isArray(body) ? 'batch' : 'one';
      return { events, stored: deps.store.appendIdempotent(key, requestFingerprint(bytes), deps.idempotencyTtlSeconds, shape, metrics) };
    }
    return { events, payload: Array.isArray(body) ? deps.store.appendAll(metrics).then(acceptedBatch) : deps.store.append(metrics[0]!).then(acceptedOne) };
  }

  /**
   * Answers a request sent with its Idempotency-Key (append-idempotent-1.lua stores the metrics
   * and the key's record in one step). A resend of a request Redis already stored (its reply
   * lost, say, to a crash) gets the stored 202 again.
   */
  async function answerIdempotent(res: ServerResponse, events: number, pending: Promise<IdempotentAppend>): Promise<void> {
    let stored: IdempotentAppend;
    try {
      stored = await pending;
    } catch (err) {
      throw Object.assign(unavailable('the metrics could not be stored'), { events, cause: err });
    }
    if (stored.outcome === 'conflict') throw Object.assign(keyReused(), { events });
    const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(stored.body) };
    if (stored.outcome === 'replay') {
      headers['idempotent-replayed'] = 'true';
      deps.metrics.idempotentReplays.inc();
    } else {
      deps.metrics.eventsAccepted.inc(events);
    }
    res.writeHead(202, headers);
    res.end(stored.body);
  }
}

/** A body on its way to Redis: the 202 body it will get, or the idempotent script's answer. */
type Sent = { readonly events: number; readonly payload: Promise<string> } | { readonly events: number; readonly stored: Promise<IdempotentAppend> };
