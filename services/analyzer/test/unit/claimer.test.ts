import { expect } from 'chai';
import { silentLogger } from '@pipeline/logger';
import type { BatchProcessor } from '../../src/batch-processor.js';
import { Claimer } from '../../src/claimer.js';
import type { CommitPlan, TextEntry } from '../../src/commit-plan.js';
import { createAnalyzerMetrics } from '../../src/metrics.js';
import type { PendingEntry, StreamStore } from '../../src/stream-store.js';

const POLICY = { claimIdleMs: 50, maxDeliveries: 10, batchSize: 100 };
const entry = (id: string): TextEntry => [id, ['ts', '1764000000', 'cpu', '40', 'rps', '1000']];

/** A Claimer over fakes: `pending` is what XPENDING answers; XCLAIM takes whatever it is given. */
function harness(pending: PendingEntry[]) {
  const calls = { claimed: [] as string[][], deadLettered: [] as string[], processed: [] as string[][] };
  const store = {
    pendingIdle: async () => pending,
    readEntries: async (ids: readonly string[]) => ids.map(entry),
    claim: async (ids: readonly string[]) => {
      calls.claimed.push([...ids]);
      return ids.map(entry);
    },
  };
  const processor = {
    commit: async (plan: CommitPlan) => {
      calls.deadLettered.push(...plan.dead.map((d) => d.id));
      return { deadLettered: plan.dead.length };
    },
    processClaimed: async (batch: readonly TextEntry[]) => {
      calls.processed.push(batch.map(([id]) => id));
      return {};
    },
  };
  const claimer = new Claimer(store as unknown as StreamStore, processor as unknown as BatchProcessor, POLICY, createAnalyzerMetrics(), silentLogger());
  return { claimer, calls };
}

describe('Claimer', () => {
  it('dead-letters the idle entries over MAX_DELIVERIES and claims only the others of the same XPENDING answer', async () => {
    const { claimer, calls } = harness([
      { id: '1-0', deliveries: 11 },
      { id: '2-0', deliveries: 10 },
      { id: '3-0', deliveries: 1 },
      { id: '4-0', deliveries: 12 },
    ]);
    expect(await claimer.run()).to.equal(2);
    expect(calls.deadLettered).to.deep.equal(['1-0', '4-0']);
    expect(calls.claimed).to.deep.equal([['2-0', '3-0']]);
    expect(calls.processed).to.deep.equal([['2-0', '3-0']]);
  });

  it('claims nothing XPENDING did not list as idle, so an entry over the limit is never claimed and counted', async () => {
    // Before: a separate check (XPENDING) then XAUTOCLAIM; an entry that became idle between the
    // two was claimed without its delivery count being looked at.
    const { claimer, calls } = harness([]);
    expect(await claimer.run()).to.equal(0);
    expect(calls.claimed).to.deep.equal([]);
    expect(calls.processed).to.deep.equal([]);
  });

  it('processes nothing when every idle entry is over the limit', async () => {
    const { claimer, calls } = harness([{ id: '7-0', deliveries: 11 }]);
    expect(await claimer.run()).to.equal(0);
    expect(calls.deadLettered).to.deep.equal(['7-0']);
    expect(calls.claimed).to.deep.equal([]);
  });
});
