import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

/**
 * /health (the process is alive), /ready (it can do its work), /metrics (Prometheus) on
 * METRICS_PORT. Three fixed routes do not need a framework.
 */
export function createOpsServer(register: Registry, isReady: () => Promise<{ ready: boolean; reason?: string }>): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return send(405, 'application/problem+json', JSON.stringify({ title: 'Method Not Allowed', status: 405 }));
    }
    if (path === '/health') return send(200, 'application/json', '{"status":"ok"}');
    if (path === '/ready') {
      return void isReady().then(
        ({ ready, reason }) => send(ready ? 200 : 503, 'application/json', JSON.stringify({ ready, ...(reason ? { reason } : {}) })),
        (err: Error) => send(503, 'application/json', JSON.stringify({ ready: false, reason: err.message })),
      );
    }
    if (path === '/metrics') {
      return void register.metrics().then(
        (text) => send(200, register.contentType, text),
        (err: Error) => send(500, 'text/plain', err.message),
      );
    }
    send(404, 'application/problem+json', JSON.stringify({ title: 'Not Found', status: 404, detail: `no route ${path}` }));
  });
}
