#!/usr/bin/env node
// `pnpm loadgen --rate 2000 --duration 60s --anomalies 0.01 --url http://127.0.0.1:8080`
import { sendAtFixedRate } from '../load/fixed-rate-sender.js';
import { createMetricSource } from '../metrics-gen.js';
import { fmt } from '../progress.js';
import { latencyPercentiles } from '../stats.js';
import { LOADGEN_USAGE, parseLoadgenArgs } from './loadgen-args.js';

interface StatsView {
  count: number;
  anomalies_total: number;
}

const bearer = (token: string | undefined): Record<string, string> => (token ? { authorization: `Bearer ${token}` } : {});

async function readStats(url: string, token: string | undefined): Promise<StatsView | null> {
  try {
    const res = await fetch(`${url}/stats`, { headers: bearer(token), signal: AbortSignal.timeout(2000) });
    if (!res.ok) return null;
    const body = (await res.json()) as Partial<StatsView>;
    return typeof body.count === 'number' && typeof body.anomalies_total === 'number' ? (body as StatsView) : null;
  } catch {
    return null;
  }
}

async function main(): Promise<number> {
  const options = parseLoadgenArgs(process.argv.slice(2));
  if (options === 'help') {
    process.stdout.write(LOADGEN_USAGE);
    return 0;
  }
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const before = await readStats(options.url, options.readToken);
  if (!before) out(`loadgen: ${options.url}/stats does not answer with pipeline stats; sending anyway (no anomaly comparison)`);
  out(`loadgen: ${fmt(options.rate)} events/s for ${fmt(options.durationMs / 1000, 1)} s to ${options.url}/ingest, spikes in ${fmt(options.anomalies * 100, 2)}% of events`);

  const source = createMetricSource({ seed: options.seed, anomalyRate: options.anomalies });
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  let accepted = 0;
  let other = 0;
  let lastTick = { at: Date.now(), answered: 0 };
  const ticker = setInterval(() => {
    const answered = accepted + other;
    const now = Date.now();
    const rate = ((answered - lastTick.answered) * 1000) / (now - lastTick.at);
    lastTick = { at: now, answered };
    process.stderr.write(`  ${fmt(answered)} answered (${fmt(rate)}/s), 202: ${fmt(accepted)}, other: ${fmt(other)}, spikes: ${fmt(source.spikes)}\n`);
  }, 5000);
  const summary = await sendAtFixedRate({
    url: `${options.url}/ingest`,
    rate: options.rate,
    durationMs: options.durationMs,
    connections: options.connections,
    headers: bearer(options.ingestToken),
    body: () => JSON.stringify(source.next().metric),
    onAnswer: (a) => (a.status === 202 ? accepted++ : other++),
    signal: controller.signal,
  }).finally(() => clearInterval(ticker));

  const p = latencyPercentiles(summary.latenciesMs);
  const statuses = Object.entries(summary.byStatus).map(([status, n]) => `${status}: ${fmt(n)}`).join(', ') || 'none';
  out('');
  out(`sent ${fmt(summary.sent)} in ${fmt(summary.elapsedMs / 1000, 1)} s: achieved ${fmt(summary.achievedRate)}/s (target ${fmt(options.rate)}/s)`);
  out(`answers: ${statuses}${summary.errors ? `, connection errors: ${fmt(summary.errors)}` : ''}${summary.skipped ? `, not sent (too many in flight): ${fmt(summary.skipped)}` : ''}`);
  out(`latency from scheduled send: p50 ${fmt(p.p50, 2)} ms, p90 ${fmt(p.p90, 2)} ms, p99 ${fmt(p.p99, 2)} ms, max ${fmt(p.max, 1)} ms`);
  // Part of each latency is this process's own lag in sending: shown apart, so that a busy load
  // generator (on the same cores as the pipeline, say) is not taken for a slow api.
  const lag = latencyPercentiles(summary.sendLagMs);
  out(`  of which this generator sent late: p50 ${fmt(lag.p50, 2)} ms, p99 ${fmt(lag.p99, 2)} ms, max ${fmt(lag.max, 1)} ms`);

  if (before) {
    // Wait (≤ 10 s) for the analyzers to process what was accepted, then compare.
    const deadline = Date.now() + 10_000;
    let after = await readStats(options.url, options.readToken);
    while (after && after.count < before.count + accepted && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      after = await readStats(options.url, options.readToken);
    }
    if (after) {
      const processed = after.count - before.count;
      out(`anomalies: injected ${fmt(source.spikes)} spikes; /stats anomalies_total +${fmt(after.anomalies_total - before.anomalies_total)} (count +${fmt(processed)} of ${fmt(accepted)} accepted${processed < accepted ? ', analyzers still behind' : ''})`);
      out('  note: z-score anomalies also occur naturally (ordinary noise past Z_THRESHOLD standard deviations), and other');
      out('  clients may be sending too, so the two numbers are to be compared, not expected equal.');
    }
  }
  return accepted > 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`loadgen: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
