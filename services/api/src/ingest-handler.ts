import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '@pipeline/logger';
import { authorize, type AccessPolicy } from './access.js';
import type { BacklogMonitor } from './backlog-monitor.js';
import type { EventStore } from './event-store.js';
import { validateIngestBody, withTimestamps } from './ingest-validation.js';
import { observeRequest, type ApiMetrics } from './metrics.js';
import { HttpProblem, sendProblem, unavailable } from './problem.js';
import { readJsonBody } from './request-body.js';

export interface IngestDeps {
  readonly store: EventStore;
  readonly backlog: BacklogMonitor;
  readonly metrics: ApiMetrics;
  readonly log: Logger;
  readonly access: AccessPolicy;
  readonly maxBatch: number;
  readonly maxBodyBytes: number;
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
    if (deps.backlog.overLimit) throw backpressure();
    const body = await readJsonBody(req, deps.maxBodyBytes);
    const events = Array.isArray(body) ? body.length : 1;
    let metrics;
    try {
      metrics = withTimestamps(validateIngestBody(body, deps.maxBatch), Date.now() / 1000);
    } catch (err) {
      throw Object.assign(err as Error, { events });
    }
    let payload: string;
    try {
      if (Array.isArray(body)) {
        const ids = await deps.store.appendAll(metrics);
        payload = JSON.stringify({ status: 'accepted', accepted: ids.length, ids });
      } else {
        payload = JSON.stringify({ status: 'accepted', id: await deps.store.append(metrics[0]!) });
      }
    } catch (err) {
      throw Object.assign(unavailable('the metrics could not be stored'), { events, cause: err });
    }
    deps.metrics.eventsAccepted.inc(metrics.length);
    res.writeHead(202, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
    res.end(payload);
  }
}
