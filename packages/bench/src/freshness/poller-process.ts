// Child process: reads GET <url>/stats in a tight loop (one request at a time, one keep-alive
// connection) and records every answer that differs from the one before (count or last_id),
// stamped with the shared clock when the answer had arrived. Sends 'ready' after the first
// answer; on the message 'stop', reports and exits. argv[2]: PollerConfig as JSON.
import { Agent, get } from 'node:http';
import { sharedNow } from '../clock.js';
import { percentile, sortedCopy } from '../stats.js';
import type { PollerConfig, PollerReport } from './messages.js';

const config = JSON.parse(process.argv[2] ?? '{}') as PollerConfig;
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
const statsUrl = `${config.url}/stats`;

function poll(): Promise<string> {
  return new Promise((resolve, reject) => {
    get(statsUrl, { agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`status ${res.statusCode}`))));
      res.on('error', reject);
    }).on('error', reject);
  });
}

let stopping = false;
process.on('message', (message) => {
  if (message === 'stop') stopping = true;
});

const at: number[] = [];
const count: number[] = [];
const lastId: (string | null)[] = [];
const rtts: number[] = [];
let polls = 0;
let failedPolls = 0;
let previousCount = -1;
let previousId: string | null | undefined;
let firstAt = 0;
let ready = false;

while (!stopping) {
  const sentAt = sharedNow();
  let body: string;
  try {
    body = await poll();
  } catch {
    failedPolls++;
    await new Promise((resolve) => setTimeout(resolve, 5));
    continue;
  }
  const answeredAt = sharedNow();
  polls++;
  if (firstAt === 0) firstAt = answeredAt;
  if (rtts.length < 200_000) rtts.push(answeredAt - sentAt);
  const stats = JSON.parse(body) as { count: number; last_id: string | null };
  if (stats.count !== previousCount || stats.last_id !== previousId) {
    previousCount = stats.count;
    previousId = stats.last_id;
    at.push(answeredAt);
    count.push(stats.count);
    lastId.push(stats.last_id);
  }
  if (!ready) {
    ready = true;
    process.send!('ready');
  }
}

const elapsed = (sharedNow() - firstAt) / 1000;
const report: PollerReport = {
  kind: 'poller',
  at,
  count,
  lastId,
  polls,
  pollsPerSecond: elapsed > 0 ? polls / elapsed : 0,
  medianPollMs: percentile(sortedCopy(rtts), 50),
  failedPolls,
};
agent.destroy();
process.send!(report, () => process.disconnect());
