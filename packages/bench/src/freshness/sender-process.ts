// Child process: sends single metrics at a fixed rate to <url>/ingest and stamps every 202 with
// the id it carries and the shared clock (see clock.ts). argv[2]: SenderConfig as JSON.
import { sendAtFixedRate } from '../load/fixed-rate-sender.js';
import { createMetricSource } from '../metrics-gen.js';
import type { SenderConfig, SenderReport } from './messages.js';

const config = JSON.parse(process.argv[2] ?? '{}') as SenderConfig;
const source = createMetricSource({ seed: config.seed, anomalyRate: 0.01 });
const ids: string[] = [];
const acceptedAt: number[] = [];
const dueAt: number[] = [];
let failed = 0;

const summary = await sendAtFixedRate({
  url: `${config.url}/ingest`,
  rate: config.rate,
  durationMs: config.durationMs,
  body: () => JSON.stringify(source.next().metric),
  onAnswer(answer) {
    if (answer.status !== 202) {
      failed++;
      return;
    }
    ids.push((JSON.parse(answer.body) as { id: string }).id);
    acceptedAt.push(answer.doneAt);
    dueAt.push(answer.dueAt);
  },
});

const report: SenderReport = {
  kind: 'sender',
  startedAt: summary.startedAt,
  ids,
  acceptedAt,
  dueAt,
  sent: summary.sent,
  failed,
  skipped: summary.skipped,
  achievedRate: summary.achievedRate,
};
process.send!(report, () => process.disconnect());
