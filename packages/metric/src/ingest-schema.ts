import { CPU_MAX, RPS_MAX, TIMESTAMP_MAX_SECONDS } from './limits.js';

/**
 * JSON schema of one metric in a `POST /ingest` body. `timestamp` is optional: absent or 0 means
 * "now" on the server. Compile it with `strictNumbers` so NaN and Infinity (1e400 parses to
 * Infinity) are rejected.
 */
export const ingestMetricSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['cpu', 'rps'],
  properties: {
    timestamp: { type: 'number', minimum: 0, maximum: TIMESTAMP_MAX_SECONDS },
    cpu: { type: 'number', minimum: 0, maximum: CPU_MAX },
    rps: { type: 'number', minimum: 0, maximum: RPS_MAX },
  },
} as const;

/** A metric as a client sends it, before the server assigns a missing timestamp. */
export interface IngestMetric {
  timestamp?: number;
  cpu: number;
  rps: number;
}
