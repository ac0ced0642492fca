import { expect } from 'chai';
import type { BacklogMonitor } from '../../src/backlog-monitor.js';
import type { EventStore } from '../../src/event-store.js';
import { createApiMetrics, observeRequest, routeObserver } from '../../src/metrics.js';

/** The api's metrics with no Redis behind them: the stats gauges stay empty. */
function metrics() {
  const store = { readStats: () => Promise.reject(new Error('no redis here')) } as unknown as EventStore;
  const backlog = { current: null, overLimit: false } as unknown as BacklogMonitor;
  return createApiMetrics(store, backlog, 1000);
}

/** The value of one sample line of the exposition (undefined when absent). */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('api HTTP metrics', () => {
  it('counts every answered request once, however often Prometheus scrapes', async () => {
    const m = metrics();
    const observe = routeObserver(m, 'POST', '/ingest');
    const started = performance.now();
    for (let i = 0; i < 5; i++) observe(202, started);
    observe(400, started);
    observeRequest(m, 'POST', '/ingest', 202, started); // the same series by the other door
    observeRequest(m, 'GET', '/stats', 200, started);

    const first = await m.register.metrics();
    const ingest202 = 'http_requests_total{method="POST",route="/ingest",status="202"}';
    expect(sample(first, ingest202)).to.equal(6);
    expect(sample(first, 'http_requests_total{method="POST",route="/ingest",status="400"}')).to.equal(1);
    expect(sample(first, 'http_requests_total{method="GET",route="/stats",status="200"}')).to.equal(1);
    expect(sample(first, 'http_request_duration_seconds_count{method="POST",route="/ingest",status="202"}')).to.equal(6);

    // Two scrapes at once and one after: nothing counted twice.
    const [second, third] = await Promise.all([m.register.metrics(), m.register.metrics()]);
    expect(sample(second, ingest202)).to.equal(6);
    expect(sample(third, ingest202)).to.equal(6);

    observe(202, started);
    const fourth = await m.register.metrics();
    expect(sample(fourth, ingest202)).to.equal(7);
    expect(sample(fourth, 'http_request_duration_seconds_count{method="POST",route="/ingest",status="202"}')).to.equal(7);
  });

  it('times requests from performance.now(): a request started 20 ms ago lands in the 25 ms bucket', async () => {
    const m = metrics();
    routeObserver(m, 'POST', '/ingest')(202, performance.now() - 20);
    const text = await m.register.metrics();
    const bucket = (le: string) => sample(text, `http_request_duration_seconds_bucket{le="${le}",method="POST",route="/ingest",status="202"}`);
    expect(bucket('0.01')).to.equal(0);
    expect(bucket('0.025')).to.equal(1);
  });
});
