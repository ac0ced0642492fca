import { expect } from 'chai';
import { silentLogger } from '@pipeline/logger';
import type { BatchProcessor } from '../../src/batch-processor.js';
import type { Claimer } from '../../src/claimer.js';
import type { CommitPlan, DecodedSegment } from '../../src/commit-plan.js';
import { ConsumerLoop } from '../../src/consumer-loop.js';
import { createAnalyzerMetrics } from '../../src/metrics.js';
import type { NewBatch, StreamStore } from '../../src/stream-store.js';

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Drives a ConsumerLoop with fakes that record every step, so the overlap the loop promises can
 * be checked: batch k+1 is planned while batch k's commit is still in Redis, yet commits run one
 * at a time and in read order.
 */
function harness(batches: number, failFirstCommitOf: number | null = null) {
  const steps: string[] = [];
  const commits: { batch: number; finish: () => void; fail: (err: Error) => void }[] = [];
  let served = 0;
  const store = {
    async readNew(): Promise<NewBatch> {
      await tick();
      if (served >= batches) {
        await new Promise((resolve) => setTimeout(resolve, 5)); // an empty BLOCK read
        return { entries: [], context: [] };
      }
      served++;
      steps.push(`read ${served}`);
      return { entries: [[`${served}-0`, []]], context: [] };
    },
    ensureGroup: async () => true,
  };
  let failed = false;
  const processor = {
    decode: (batch: NewBatch) => ({ ids: batch.entries.map(([id]) => String(id)), malformed: [], size: batch.entries.length }) as unknown as DecodedSegment,
    plan(segment: DecodedSegment): CommitPlan {
      const batch = Number(segment.ids[0]!.split('-')[0]);
      steps.push(`plan ${batch}`);
      return { processed: [], dead: [], latest: { id: String(batch), fields: [] } };
    },
    commitBatch(plan: CommitPlan) {
      const batch = Number(plan.latest!.id);
      steps.push(`commit ${batch}`);
      return new Promise((resolve, reject) => {
        commits.push({
          batch,
          finish: () => {
            steps.push(`committed ${batch}`);
            resolve({});
          },
          fail: (err) => {
            steps.push(`failed ${batch}`);
            reject(err);
          },
        });
        if (batch === failFirstCommitOf && !failed) {
          failed = true;
          commits.pop()!.fail(new Error('redis went away'));
        }
      });
    },
  };
  const claimer = { run: async () => 0 };
  const loop = new ConsumerLoop(
    store as unknown as StreamStore,
    processor as unknown as BatchProcessor,
    claimer as unknown as Claimer,
    { batchSize: 10, blockMs: 5, claimIntervalMs: 60_000, windowSize: 5 },
    createAnalyzerMetrics(),
    silentLogger(),
  );
  /** Lets the loop run until it waits on a commit, then finishes the oldest open commit. */
  async function finishNextCommit(): Promise<void> {
    // Up to 2 s: a retry comes after the loop's backoff (100 ms).
    for (let i = 0; i < 400 && commits.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(commits, 'a commit is in flight').to.not.have.length(0);
    for (let i = 0; i < 5; i++) await tick(); // let the loop plan ahead meanwhile
    commits.shift()!.finish();
  }
  return { loop, steps, commits, finishNextCommit };
}

describe('ConsumerLoop', () => {
  it('plans the next batch while the previous commit is in flight, committing one at a time in order', async () => {
    const { loop, steps, finishNextCommit } = harness(3);
    loop.start();
    for (let k = 0; k < 3; k++) await finishNextCommit();
    await loop.stop();
    const at = (step: string) => {
      const i = steps.indexOf(step);
      expect(i, `${step} happened`).to.be.greaterThan(-1);
      return i;
    };
    for (const k of [1, 2, 3]) {
      expect(steps.filter((s) => s === `commit ${k}`), `batch ${k} committed once`).to.have.length(1);
      expect(at(`plan ${k}`)).to.be.lessThan(at(`commit ${k}`));
    }
    // Overlap: batch 2 is planned before batch 1's commit has come back.
    expect(at('plan 2')).to.be.lessThan(at('committed 1'));
    // One at a time, in order: batch k+1's commit is sent only after batch k's returned.
    expect(at('committed 1')).to.be.lessThan(at('commit 2'));
    expect(at('committed 2')).to.be.lessThan(at('commit 3'));
  });

  it('retries a failed commit before sending the next one', async () => {
    const { loop, steps, finishNextCommit } = harness(2, 1);
    loop.start();
    await finishNextCommit(); // the retry of batch 1 (after the loop's backoff)
    await finishNextCommit(); // batch 2
    await loop.stop();
    expect(steps.filter((s) => /^(commit|failed|committed) /.test(s))).to.deep.equal([
      'commit 1', 'failed 1', 'commit 1', 'committed 1', 'commit 2', 'committed 2',
    ]);
  });

  it('does not return from stop() before the commit in flight has come back', async () => {
    const { loop, steps, commits } = harness(1);
    loop.start();
    for (let i = 0; i < 200 && commits.length === 0; i++) await tick();
    let stopped = false;
    const stopping = loop.stop().then(() => (stopped = true));
    for (let i = 0; i < 20; i++) await tick();
    expect(stopped, 'stop() waits for the commit').to.equal(false);
    commits.shift()!.finish();
    await stopping;
    expect(steps.at(-1)).to.equal('committed 1');
  });
});
