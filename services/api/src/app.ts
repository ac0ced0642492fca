import { randomUUID } from 'node:crypto';
import express, { type ErrorRequestHandler, type Request, type RequestHandler } from 'express';
import { pinoHttp } from 'pino-http';
import type { Logger } from '@pipeline/logger';
import { requireToken, type AccessPolicy } from './access.js';
import type { EventStore } from './event-store.js';
import { observeRequest, type ApiMetrics } from './metrics.js';
import { HttpProblem, problemBody, unavailable } from './problem.js';

export interface AppDeps {
  readonly store: EventStore;
  readonly metrics: ApiMetrics;
  readonly log: Logger;
  /** Bearer tokens for the read routes; the probes and /metrics stay open (README, Access control). */
  readonly access: AccessPolicy;
  /** False once shutdown began: readiness turns 503 so the load balancer moves away. */
  readonly isServing: () => boolean;
}

const PROBE_ROUTES = new Set(['/health', '/ready', '/metrics']);
const MAX_ANOMALIES = 1000;
const DEFAULT_ANOMALIES = 50;

/** Every route but POST /ingest (see ingest-handler.ts): reads, probes and metrics. */
export function createApp(deps: AppDeps): express.Express {
  const { store, metrics } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(
    pinoHttp({
      logger: deps.log.child({ module: 'http' }),
      genReqId: (req, res) => {
        const id = (req.headers['x-request-id'] as string | undefined) ?? randomUUID();
        res.setHeader('x-request-id', id);
        return id;
      },
      customLogLevel: (req, res, err) => {
        if (err || res.statusCode >= 500) return 'error';
        if (res.statusCode >= 400) return 'warn';
        return PROBE_ROUTES.has(req.url?.split('?')[0] ?? '') ? 'debug' : 'info';
      },
    }),
  );
  app.use(httpMetrics(metrics));

  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.get('/ready', async (_req, res) => {
    if (!deps.isServing()) {
      res.status(503).json({ ready: false, reason: 'shutting down' });
      return;
    }
    let info;
    try {
      info = await store.groupInfo();
    } catch (err) {
      res.status(503).json({ ready: false, reason: `redis: ${(err as Error).message}` });
      return;
    }
    if (info) res.json({ ready: true });
    else res.status(503).json({ ready: false, reason: 'consumer group missing' });
  });

  app.get('/metrics', async (_req, res) => {
    res.type(metrics.register.contentType).send(await metrics.register.metrics());
  });

  const readers = requireToken(deps.access, 'read');

  app.get('/stats', readers, async (_req, res) => {
    const { view } = await readOrUnavailable(() => store.readStats(), 'stats');
    res.set('cache-control', 'no-store').json(view);
  });

  app.get('/anomalies', readers, async (req, res) => {
    const limit = parseLimit(req);
    const anomalies = await readOrUnavailable(() => store.readAnomalies(limit), 'anomalies');
    res.set('cache-control', 'no-store').json({ anomalies });
  });

  app.all('/ingest', (_req, res) => {
    res.set('allow', 'POST');
    throw new HttpProblem(405, 'method-not-allowed', 'Method Not Allowed', 'use POST /ingest');
  });

  app.use((req, _res, next) => {
    next(new HttpProblem(404, 'not-found', 'Not Found', `no route for ${req.method} ${req.path}`));
  });
  app.use(errorHandler(deps.log));
  return app;
}

async function readOrUnavailable<T>(read: () => Promise<T>, what: string): Promise<T> {
  try {
    return await read();
  } catch (err) {
    throw Object.assign(unavailable(`the ${what} could not be read`), { cause: err });
  }
}

function parseLimit(req: Request): number {
  const raw = req.query.limit;
  if (raw === undefined) return DEFAULT_ANOMALIES;
  if (typeof raw !== 'string' || !/^\d{1,7}$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_ANOMALIES) {
    throw new HttpProblem(400, 'invalid-query', 'Invalid Query', `limit must be an integer from 1 to ${MAX_ANOMALIES}`, [
      { field: 'limit', pointer: '', message: `must be an integer from 1 to ${MAX_ANOMALIES}` },
    ]);
  }
  return Number(raw);
}

function httpMetrics(metrics: ApiMetrics): RequestHandler {
  return (req, res, next) => {
    const started = performance.now();
    res.once('finish', () => {
      // The matched route pattern, never the raw URL: label values stay few.
      const route = (req.route?.path as string | undefined) ?? 'unmatched';
      observeRequest(metrics, req.method, route, res.statusCode, started);
    });
    next();
  };
}

function errorHandler(log: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    let problem: HttpProblem;
    if (err instanceof HttpProblem) {
      problem = err;
    } else if ((err as { status?: number }).status && (err as { status: number }).status < 500) {
      const status = (err as { status: number }).status;
      problem = new HttpProblem(status, 'bad-request', 'Bad Request', (err as Error).message);
    } else {
      // Unknown failure: log it with the request id; the client gets no stack trace.
      log.error({ err, reqId: req.id }, 'unhandled error');
      problem = new HttpProblem(500, 'internal', 'Internal Server Error', `request ${String(req.id)} failed; see the server log`);
    }
    if (res.headersSent) return void res.destroy();
    res.status(problem.status).set({ ...problem.headers, 'cache-control': 'no-store' }).type('application/problem+json');
    res.send(JSON.stringify(problemBody(problem, req.originalUrl.split('?')[0])));
  };
}
