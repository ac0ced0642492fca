// What the freshness sender and poller processes report to the benchmark (over fork() IPC).

export interface SenderConfig {
  /** Base URL of the server under test. */
  readonly url: string;
  readonly rate: number;
  readonly durationMs: number;
  readonly seed: number;
}

/** Every 202 the sender got: the id the server assigned and when the answer arrived. */
export interface SenderReport {
  readonly kind: 'sender';
  /** sharedNow() at which request 0 was due. */
  readonly startedAt: number;
  readonly ids: string[];
  /** sharedNow() when each 202 (same order as ids) had fully arrived. */
  readonly acceptedAt: number[];
  /** sharedNow() when each of those requests was due. */
  readonly dueAt: number[];
  readonly sent: number;
  readonly failed: number;
  readonly skipped: number;
  readonly achievedRate: number;
}

export interface PollerConfig {
  readonly url: string;
}

/** Every change of GET /stats the poller saw: when its answer arrived and what it said. */
export interface PollerReport {
  readonly kind: 'poller';
  readonly at: number[];
  readonly count: number[];
  readonly lastId: (string | null)[];
  readonly polls: number;
  readonly pollsPerSecond: number;
  /** Median time from sending a poll to having its whole answer, ms. */
  readonly medianPollMs: number;
  readonly failedPolls: number;
}
