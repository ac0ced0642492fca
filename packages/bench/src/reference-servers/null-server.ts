// The null pipeline for the freshness harness: POST /ingest assigns a stream-like id at once and
// GET /stats reflects it at once ({count, last_id}). Whatever latency the harness measures here
// is the harness's own floor (HTTP round trips, polling, scheduling). Env: PORT.
import { createServer } from 'node:http';

let count = 0;
let lastMs = 0;
let seq = 0;
let lastId: string | null = null;

function nextId(): string {
  const now = Date.now();
  if (now > lastMs) {
    lastMs = now;
    seq = 0;
  } else {
    seq++;
  }
  return `${lastMs}-${seq}`;
}

function json(res: import('node:http').ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

const server = createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/ingest') {
    req.resume();
    req.on('end', () => {
      const id = nextId();
      count++;
      lastId = id;
      json(res, 202, { status: 'accepted', id });
    });
  } else if (req.url === '/stats') {
    json(res, 200, { count, last_id: lastId });
  } else if (req.url === '/health') {
    res.writeHead(200).end();
  } else {
    res.writeHead(404).end();
  }
});

server.listen(Number(process.env['PORT'] ?? 0), '127.0.0.1');
process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
});
