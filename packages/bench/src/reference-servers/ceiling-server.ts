// The ceiling for single-metric ingest: bare node:http, JSON.parse of the body, the same XADD
// into the same stream layout (fields ts/cpu/rps as String(number)) with ioredis auto-pipelining,
// 202 with the id. No validation, no metrics, no logging: what the api could be at best.
// Env: PORT, REDIS_URL, KEY_PREFIX.
import { createServer } from 'node:http';
import { Redis } from 'ioredis';

const port = Number(process.env['PORT'] ?? 0);
const stream = `${process.env['KEY_PREFIX'] ?? 'bench-ceiling'}:{default}:events`;
const redis = new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379', { enableAutoPipelining: true });

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
