// Closed-loop POST load with autocannon (in this process).
import autocannon from 'autocannon';
import type { ClosedLoopLoad, ClosedLoopResult } from './closed-loop.js';

export async function autocannonLoad(load: ClosedLoopLoad): Promise<ClosedLoopResult> {
  const result = await autocannon({
    url: load.url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: load.body,
    connections: load.connections,
    duration: load.durationSeconds,
    pipelining: 1,
    timeout: 10,
  });
  const ok = result['2xx'];
  return {
    okPerSecond: ok / result.duration,
    ok,
    failed: result.non2xx + result.errors,
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    seconds: result.duration,
    tool: 'autocannon',
  };
}
