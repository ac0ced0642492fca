import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '@pipeline/logger';
import type { Metric } from '@pipeline/metric';
import { acceptedBatch, acceptedOne } from './accepted-body.js';
import { authorize, type AccessPolicy } from './access.js';
import type { BacklogMonitor } from './backlog-monitor.js';
import type { EventStore, IdempotentAppend } from './event-store.js';
import { idempotencyKeyOf, keyReused, requestFingerprint } from './idempotency.js';
import { validateIngestBody, withTimestamps } from './ingest-validation.js';
import { routeObserver, type ApiMetrics } from './metrics.js';
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
 *
 * Callbacks and one promise per request rather than async functions: each await, async wrapper
 * and `finish` listener is garbage the young generation must collect, and on this path, at
 * ~30 µs a request, that was a measured few µs (issue 7).
 */
export function createIngestHandler(deps: IngestDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const log = deps.log.child({ module: 'ingest' });
  const observe = routeObserver(deps.metrics, 'POST', ROUTE);

  return (req, res) => {
    const started = performance.now();
    let key: string | undefined;
    try {
      authorize(deps.access, 'ingest', req.headers.authorization);
      // A bad key is the client's to fix, not to retry: refused before backpressure's 503.
      key = idempotencyKeyOf(req);
      if (deps.backlog.overLimit) throw backpressure();
    } catch (err) {
      return refuse(req, res, started, err);
    }
    readJsonBytes(req, deps.maxBodyBytes, (problem, bytes) => {
      if (problem) return refuse(req, res, started, problem);
      let sent: Sent;
      try {
        sent = send(bytes, key);
      } catch (err) {
        return refuse(req, res, started, err);
      }
      const { events } = sent;
      const notStored = (err: unknown) =>
        refuse(req, res, started, Object.assign(unavailable('the metrics could not be stored'), { events, cause: err }));
      if ('stored' in sent) sent.stored.then((stored) => answerIdempotent(req, res, started, events, stored), notStored);
      else if ('id' in sent) sent.id.then((id) => accept(req, res, started, events, acceptedOne(id)), notStored);
      else sent.ids.then((ids) => accept(req, res, started, events, acceptedBatch(ids)), notStored);
    });
  };

  /** Answers 202 with the body Redis's ids made; `replayed`: an Idempotency-Key record's. */
  function accept(req: IncomingMessage, res: ServerResponse, started: number, events: number, body: string, replayed = false): void {
    try {
      const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
      if (replayed) {
        headers['idempotent-replayed'] = 'true';
        deps.metrics.idempotentReplays.inc();
      } else {
        deps.metrics.eventsAccepted.inc(events);
      }
      res.writeHead(202, headers);
      res.end(body);
      observe(202, started);
    } catch (err) {
      refuse(req, res, started, err);
    }
  }

  /** Answers a refusal or failure as problem+json, counting its events as rejected. */
  function refuse(req: IncomingMessage, res: ServerResponse, started: number, err: unknown): void {
    const problem = err instanceof HttpProblem ? err : unavailable('the metrics could not be stored');
    if (!(err instanceof HttpProblem)) log.warn({ err }, 'ingest failed');
    deps.metrics.eventsRejected.inc({ reason: problem.kind }, (err as { events?: number }).events ?? 1);
    if (res.headersSent) return void res.destroy();
    // A caller without a valid token does not get its body read to the end for the sake of
    // keeping the connection: it is closed instead.
    if ((problem.status === 401 || problem.status === 403) && !req.complete) res.setHeader('connection', 'close');
    sendProblem(res, problem, ROUTE);
    observe(problem.status, started);
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
    return Array.isArray(body) ? { events, ids: deps.store.appendAll(metrics) } : { events: 1, id: deps.store.append(metrics[0]!) };
  }

  /**
   * Answers a request sent with its Idempotency-Key (append-idempotent-1.lua stores the metrics
   * and the key's record in one step). A resend of a request Redis already stored (its reply
   * lost, say, to a crash) gets the stored 202 again.
   */
  function answerIdempotent(req: IncomingMessage, res: ServerResponse, started: number, events: number, stored: IdempotentAppend): void {
    if (stored.outcome === 'conflict') return refuse(req, res, started, Object.assign(keyReused(), { events }));
    accept(req, res, started, events, stored.body, stored.outcome === 'replay');
  }
}

/** A body on its way to Redis: the stream id(s) it will get, or the idempotent script's answer. */
type Sent =
  | { readonly events: 1; readonly id: Promise<string> }
  | { readonly events: number; readonly ids: Promise<string[]> }
  | { readonly events: number; readonly stored: Promise<IdempotentAppend> };
