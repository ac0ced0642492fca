// The ceiling for single-metric ingest: bare node:http, JSON.parse of the body, the same XADD
// into the same stream layout (fields ts/cpu/rps as String(number)), 202 with the id. No
// validation, no metrics, no logging: what the api could be at best.
// REDIS_WRITES=auto-pipelining (default): ioredis auto-pipelining, the reference server.
// REDIS_WRITES=coalesced: the api's own write coalescing (@pipeline/redis), so that the api's
// ratio to it is what validation, limits, metrics and auth cost, the Redis path being the same.
// Env: PORT, REDIS_URL, KEY_PREFIX, REDIS_WRITES.
import { createServer } from 'node:http';
import { Redis } from 'ioredis';

const port = Number(process.env['PORT'] ?? 0);
const stream = `${process.env['KEY_PREFIX'] ?? 'bench-ceiling'}:{default}:events`;
const writes = process.env['REDIS_WRITES'] ?? 'auto-pipelining';
if (writes !== 'auto-pipelining' && writes !== 'coalesced') throw new Error(`REDIS_WRITES must be auto-pipelining or coalesced, got ${writes}`);
const redis = new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379', { enableAutoPipelining: writes === 'auto-pipelining' });
// Loaded only when asked for: the ceiling loads nothing but ioredis.
if (writes === 'coalesced') (await import('@pipeline/redis')).coalesceWrites(redis);

const server = createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/ingest') {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let metric: { timestamp?: number; cpu: number; rps: number };
      try {
        metric = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        res.writeHead(400).end();
        return;
      }
      const ts = metric.timestamp || Date.now() / 1000;
      redis.xadd(stream, '*', 'ts', String(ts), 'cpu', String(metric.cpu), 'rps', String(metric.rps)).then(
        (id) => {
          const body = JSON.stringify({ status: 'accepted', id });
          res.writeHead(202, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
          res.end(body);
        },
        () => res.writeHead(503).end(),
      );
    });
  } else if (req.url === '/health') {
    res.writeHead(redis.status === 'ready' ? 200 : 503).end();
  } else {
    res.writeHead(404).end();
  }
});

server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  redis.disconnect();
});
