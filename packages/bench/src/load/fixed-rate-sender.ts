// Open-loop load: POSTs at a fixed rate whatever the answers do (request i is due at
// start + i/rate), over a pool of keep-alive connections. A slow server makes requests queue,
// and their latency is counted from when they were due, so a stall is not hidden.
import { Agent, request } from 'node:http';
import { sharedNow } from '../clock.js';

export interface FixedRateOptions {
  /** Full URL of the endpoint, e.g. http://127.0.0.1:8080/ingest. */
  readonly url: string;
  /** Requests per second. */
  readonly rate: number;
  readonly durationMs: number;
  /** Body of request i (a JSON string). */
  readonly body: (i: number) => string;
  /** Extra request headers (e.g. authorization). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Keep-alive connections; default 32. */
  readonly connections?: number;
  /** Requests allowed in flight (beyond, a due request is skipped and counted); default 20,000. */
  readonly maxInFlight?: number;
  /** Called for every answer, in arrival order. */
  readonly onAnswer?: (answer: Answer) => void;
  /** Stop early (checked every tick). */
  readonly signal?: AbortSignal;
}

export interface Answer {
  readonly index: number;
  /** 0 when the request failed without an HTTP answer. */
  readonly status: number;
  readonly body: string;
  /** sharedNow() times: when the request was due and when its whole answer had arrived. */
  readonly dueAt: number;
  readonly doneAt: number;
}

export interface FixedRateSummary {
  /** sharedNow() at which request 0 was due. */
  readonly startedAt: number;
  readonly sent: number;
  readonly answered: number;
  readonly byStatus: Record<string, number>;
  /** Requests that got no HTTP answer (connection error). */
  readonly errors: number;
  /** Due requests not sent because maxInFlight were outstanding. */
  readonly skipped: number;
  /** From the first due time to the last answer. */
  readonly elapsedMs: number;
  /** Answers per second over elapsedMs. */
  readonly achievedRate: number;
  /** Latencies in ms from due time to answer, in answer order. */
  readonly latenciesMs: Float64Array;
  /**
   * How late each request was handed to the HTTP client, in ms after its due time, in send order:
   * this process's own lag (a busy or paused event loop), part of every latency above.
   */
  readonly sendLagMs: Float64Array;
}

const TICK_MS = 1;

export async function sendAtFixedRate(opts: FixedRateOptions): Promise<FixedRateSummary> {
  const target = new URL(opts.url);
  const agent = new Agent({ keepAlive: true, maxSockets: opts.connections ?? 32 });
  const maxInFlight = opts.maxInFlight ?? 20_000;
  const total = Math.floor((opts.rate * opts.durationMs) / 1000);
  const latencies = new Float64Array(total);
  const sendLag = new Float64Array(total);
  const byStatus: Record<string, number> = {};
  let sent = 0;
  let answered = 0;
  let errors = 0;
  let skipped = 0;
  let inFlight = 0;
  let lastDone = 0;
  const start = sharedNow();

  let finish!: () => void;
  const allAnswered = new Promise<void>((resolve) => (finish = resolve));
  const settle = (index: number, status: number, body: string, dueAt: number) => {
    const doneAt = sharedNow();
    lastDone = doneAt;
    inFlight--;
    if (status === 0) errors++;
    else byStatus[status] = (byStatus[status] ?? 0) + 1;
    latencies[answered++] = doneAt - dueAt;
    opts.onAnswer?.({ index, status, body, dueAt, doneAt });
    if (sent + skipped === total && inFlight === 0) finish();
  };

  const send = (index: number, dueAt: number) => {
    const payload = opts.body(index);
    sendLag[sent] = Math.max(0, sharedNow() - dueAt);
    inFlight++;
    sent++;
    const req = request(
      {
        agent,
        host: target.hostname,
        port: target.port,
        path: target.pathname + target.search,
        method: 'POST',
        headers: { ...opts.headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => settle(index, res.statusCode ?? 0, body, dueAt));
        res.on('error', () => settle(index, 0, '', dueAt));
      },
    );
    req.on('error', () => settle(index, 0, '', dueAt));
    req.end(payload);
  };

  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = sharedNow();
      const due = opts.signal?.aborted ? sent + skipped : Math.min(total, Math.floor(((now - start) * opts.rate) / 1000));
      while (sent + skipped < due) {
        const index = sent + skipped;
        if (inFlight >= maxInFlight) skipped++;
        else send(index, start + (index * 1000) / opts.rate);
      }
      if (sent + skipped >= total || opts.signal?.aborted) {
        if (opts.signal?.aborted) skipped += total - sent - skipped;
        resolve();
      } else {
        setTimeout(tick, TICK_MS);
      }
    };
    tick();
  });
  if (inFlight > 0) await allAnswered;
  agent.destroy();
  const elapsedMs = (lastDone || sharedNow()) - start;
  return {
    startedAt: start,
    sent,
    answered,
    byStatus,
    errors,
    skipped,
    elapsedMs,
    achievedRate: elapsedMs > 0 ? (answered / elapsedMs) * 1000 : 0,
    latenciesMs: latencies.subarray(0, answered),
    sendLagMs: sendLag.subarray(0, sent),
  };
}
