// Freshness latencies, computed after the run from the two processes' stamps: for each 202'd
// event, the first /stats answer that reflects it (last_id ≥ its id, or count ≥ its position in
// the stream) minus the time its 202 arrived. The stats only move forward (the commit is a
// compare-and-set on last_id, count only grows), so both searches are binary.
import { compareParsed, parseId, type StreamId } from '../stream-ids.js';
import type { PollerReport, SenderReport } from './messages.js';

export interface FreshnessLatencies {
  /** ms from 202 to reflected, for the events due after the warm-up. */
  readonly latenciesMs: Float64Array;
  /** Measured events that no /stats answer reflected before the poller stopped. */
  readonly unreflected: number;
  /** 202'd events due during the warm-up, left out. */
  readonly warmupEvents: number;
}

export interface MatchOptions {
  readonly warmupMs: number;
  /** Use the count (position) match too: only when every event in the stream is one of ours. */
  readonly useCount: boolean;
}

export function freshnessLatencies(sender: SenderReport, poller: PollerReport, opts: MatchOptions): FreshnessLatencies {
  const pollIds: (StreamId | null)[] = poller.lastId.map((id) => (id === null ? null : parseId(id)));
  const ids = sender.ids.map(parseId);
  // Position in the stream = count before the run + rank among this run's ids.
  const baseCount = poller.count.length > 0 ? poller.count[0]! : 0;
  const order = ids.map((_, i) => i).sort((a, b) => compareParsed(ids[a]!, ids[b]!));
  const position = new Float64Array(ids.length);
  order.forEach((eventIndex, rank) => (position[eventIndex] = baseCount + rank + 1));

  const firstWithId = (id: StreamId): number => {
    let lo = 0;
    let hi = pollIds.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const seen = pollIds[mid];
      if (seen !== null && seen !== undefined && compareParsed(seen, id) >= 0) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
  const firstWithCount = (wanted: number): number => {
    let lo = 0;
    let hi = poller.count.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (poller.count[mid]! >= wanted) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };

  const measureFrom = sender.startedAt + opts.warmupMs;
  const latencies: number[] = [];
  let unreflected = 0;
  let warmupEvents = 0;
  for (let i = 0; i < ids.length; i++) {
    if (sender.dueAt[i]! < measureFrom) {
      warmupEvents++;
      continue;
    }
    let match = firstWithId(ids[i]!);
    if (opts.useCount) match = Math.min(match, firstWithCount(position[i]!));
    if (match >= poller.at.length) {
      unreflected++;
      continue;
    }
    latencies.push(Math.max(0, poller.at[match]! - sender.acceptedAt[i]!));
  }
  return { latenciesMs: Float64Array.from(latencies), unreflected, warmupEvents };
}
