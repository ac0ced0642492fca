/** One metric event as it travels through the pipeline. `timestamp` is Unix seconds. */
export interface Metric {
  readonly timestamp: number;
  readonly cpu: number;
  readonly rps: number;
}
