// The result of a closed-loop load (N connections, each sending its next request when the answer
// to the last one came), whichever tool produced it.

export interface ClosedLoopLoad {
  readonly url: string;
  /** The POST body sent with every request. */
  readonly body: string;
  readonly connections: number;
  readonly durationSeconds: number;
}

export interface ClosedLoopResult {
  /** 2xx answers per second over the run. */
  readonly okPerSecond: number;
  readonly ok: number;
  /** Answers that were not 2xx, plus connection errors and timeouts. */
  readonly failed: number;
  readonly latencyP50Ms: number;
  readonly latencyP99Ms: number;
  readonly seconds: number;
  readonly tool: string;
}

export type ClosedLoopTool = (load: ClosedLoopLoad) => Promise<ClosedLoopResult>;
