// The open-loop sender against a local HTTP server: every request is answered, latencies count
// from the due time, and the sender's own lateness (here: its event loop blocked on purpose) is
// reported apart.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { sendAtFixedRate } from '../src/load/fixed-rate-sender.js';

describe('sendAtFixedRate', () => {
  let server: Server;
  let url: string;

  before(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(202).end('ok'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ingest`;
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('answers every due request, and reports the sends it made late when its own event loop was blocked', async () => {
    const BLOCK_MS = 80;
    // 300 ms into the run this process's event loop stops for BLOCK_MS: the requests due
    // meanwhile go out that much late, whatever the server does.
    const blocker = setTimeout(() => {
      const until = performance.now() + BLOCK_MS;
      while (performance.now() < until);
    }, 300);
    const summary = await sendAtFixedRate({ url, rate: 500, durationMs: 800, body: () => '{}' });
    clearTimeout(blocker);

    expect(summary.sent).to.equal(400);
    expect(summary.byStatus).to.deep.equal({ 202: 400 });
    expect(summary.sendLagMs).to.have.length(400);
    const lags = [...summary.sendLagMs];
    const latencies = [...summary.latenciesMs];
    expect(Math.max(...lags), 'the blocked stretch').to.be.at.least(BLOCK_MS * 0.8);
    expect(lags.filter((l) => l >= BLOCK_MS / 2).length, 'requests due during the block').to.be.at.least(10);
    // Sending late is part of the latency counted from the due time.
    expect(Math.max(...latencies)).to.be.at.least(Math.max(...lags));
    expect(lags.every((l) => l >= 0)).to.equal(true);
  });
});
