import { decodeEntry, wordText } from '@pipeline/metric';
import { ANALYZER_GROUP, ensureGroup, readGroupInfo, readStreamEnd, type GroupInfo, type Redis, type SeriesKeys, type StreamEnd } from '@pipeline/redis';
import type { CommitPlan, ContextEntry, RawEntry, TextEntry } from './commit-plan.js';
import { defineScripts, type CommitReply } from './lua-scripts.js';

export interface CommitResult {
  readonly processed: number;
  readonly duplicates: number;
  readonly anomalies: number;
  readonly anomaliesCpu: number;
  readonly anomaliesRps: number;
  readonly deadLettered: number;
  readonly latestReplaced: boolean;
}

/** A `>` read: a contiguous run of the stream and the valid entries just before it. */
export interface NewBatch {
  readonly entries: RawEntry[];
  readonly context: ContextEntry[];
}

export interface PendingEntry {
  readonly id: string;
  readonly deliveries: number;
}

export interface RetentionLimits {
  readonly anomalies: number;
  readonly deadLetters: number;
}

/**
 * All of the analyzer's Redis access. `blocking` serves the reads of new batches (XREADGROUP
 * BLOCK and then their context: a blocked connection can carry nothing else meanwhile);
 * `commands` serves everything else.
 */
export class StreamStore {
  constructor(
    private readonly commands: Redis,
    private readonly blocking: Redis,
    private readonly keys: SeriesKeys,
    private readonly consumer: string,
    private readonly retention: RetentionLimits,
  ) {
    defineScripts(commands);
  }

  ensureGroup(): Promise<boolean> {
    return ensureGroup(this.commands, this.keys.events);
  }

  groupInfo(): Promise<GroupInfo | null> {
    return readGroupInfo(this.commands, this.keys.events);
  }

  /** The stream's newest id and length (for the lag, see correctedLag). */
  end(): Promise<StreamEnd> {
    return readStreamEnd(this.commands, this.keys.events);
  }

  async ping(): Promise<void> {
    await this.commands.ping();
  }

  /**
   * New entries for this consumer (a contiguous run of the stream; [] after blockMs) with the
   * `windowSize` valid entries before them. Both on the blocking connection, so that a commit in
   * flight on the other one does not hold up the context read.
   */
  async readNew(count: number, blockMs: number, windowSize: number): Promise<NewBatch> {
    // Read as bytes: ioredis would otherwise make a Buffer and then a string of every word, and
    // planCommit reads the numbers straight from the bytes.
    const reply = (await this.blocking.callBuffer(
      'XREADGROUP', 'GROUP', ANALYZER_GROUP, this.consumer,
      'COUNT', count, 'BLOCK', blockMs,
      'STREAMS', this.keys.events, '>',
    )) as [Buffer, RawEntry[]][] | null;
    const entries = reply?.[0]?.[1] ?? [];
    if (entries.length === 0) return { entries, context: [] };
    return { entries, context: await this.readValidBefore(`(${entries[0]![0]}`, windowSize, this.blocking) };
  }

  /**
   * The last `n` valid metrics up to `end` (an XREVRANGE bound: `(id` exclusive, `id` inclusive),
   * oldest first. Malformed entries take no place in a window, so it reads further back past them.
   */
  async readValidBefore(end: string, n: number, connection: Redis = this.commands): Promise<ContextEntry[]> {
    const found: ContextEntry[] = [];
    let bound = end;
    while (found.length < n) {
      const want = n - found.length;
      const page = (await connection.xrevrangeBuffer(this.keys.events, bound, '-', 'COUNT', want)) as RawEntry[];
      for (const [id, fields] of page) {
        const decoded = decodeEntry(fields);
        if (decoded.ok) found.push({ id: wordText(id), metric: decoded.metric });
      }
      if (page.length < want) break;
      bound = `(${wordText(page[page.length - 1]![0])}`;
    }
    return found.reverse();
  }

  /** Every entry from `first` to `last` inclusive. */
  async readRange(first: string, last: string): Promise<RawEntry[]> {
    return (await this.commands.xrangeBuffer(this.keys.events, first, last)) as RawEntry[];
  }

  /** Entries by id (missing ones left out), for copying into the dead-letter stream. */
  async readEntries(ids: readonly string[]): Promise<TextEntry[]> {
    const pipeline = this.commands.pipeline();
    for (const id of ids) pipeline.xrange(this.keys.events, id, id);
    const replies = (await pipeline.exec()) ?? [];
    return replies.flatMap(([err, entries]) => (err ? [] : (entries as TextEntry[])));
  }

  /** Pending entries idle for at least `minIdleMs`, with how often each was delivered. */
  async pendingIdle(minIdleMs: number, count: number): Promise<PendingEntry[]> {
    const rows = (await this.commands.xpending(
      this.keys.events, ANALYZER_GROUP, 'IDLE', minIdleMs, '-', '+', count,
    )) as [string, string, number, number][];
    return rows.map(([id, , , deliveries]) => ({ id, deliveries: Number(deliveries) }));
  }

  /** The oldest entry delivered and not yet acknowledged, if any. */
  async oldestPendingId(): Promise<string | null> {
    const summary = (await this.commands.xpending(this.keys.events, ANALYZER_GROUP)) as [number, string | null, ...unknown[]];
    return summary[0] > 0 ? summary[1] : null;
  }

  /**
   * Takes over the given pending entries that are still idle for at least `minIdleMs` (XCLAIM;
   * one another consumer took or acknowledged meanwhile is left out, and so is one deleted from
   * the stream, which Redis drops from the pending list). In the order given.
   */
  async claim(ids: readonly string[], minIdleMs: number): Promise<TextEntry[]> {
    const reply = (await this.commands.xclaim(this.keys.events, ANALYZER_GROUP, this.consumer, minIdleMs, ...ids)) as (TextEntry | null)[];
    return reply.filter((e): e is TextEntry => e !== null);
  }

  /** Trims entries older than `minId` (approximately: never more). Returns how many went. */
  async trimBefore(minId: string): Promise<number> {
    return this.commands.xtrim(this.keys.events, 'MINID', '~', minId);
  }

  /** Runs the commit script (one atomic step, see commit-batch-4.lua). */
  async commit(plan: CommitPlan, committedAt: Date): Promise<CommitResult> {
    const latestPairs = plan.latest ? plan.latest.fields.length / 2 : 0;
    let anomalous = 0;
    for (const p of plan.processed) if (p.anomalyFlags) anomalous++;
    const args: (string | number)[] = [
      this.keys.events, this.keys.stats, this.keys.anomalies, this.keys.dead,
      ANALYZER_GROUP, committedAt.toISOString(), this.retention.anomalies, this.retention.deadLetters,
      plan.processed.length - anomalous, anomalous, plan.dead.length, latestPairs, plan.latest?.id ?? '',
    ];
    if (plan.latest) for (const f of plan.latest.fields) args.push(f);
    for (const p of plan.processed) if (!p.anomalyFlags) args.push(p.id);
    for (const p of plan.processed) if (p.anomalyFlags) args.push(p.id, p.anomalyFlags, p.anomalyMember);
    for (const d of plan.dead) args.push(d.id, d.reason, d.fieldsJson);
    const [processed, duplicates, anomalies, anomaliesCpu, anomaliesRps, deadLettered, replaced] =
      (await this.commands.commitBatch(...args)) as CommitReply;
    return { processed, duplicates, anomalies, anomaliesCpu, anomaliesRps, deadLettered, latestReplaced: replaced === 1 };
  }
}
