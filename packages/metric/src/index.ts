export { CPU_MAX, RPS_MAX, TIMESTAMP_MAX_SECONDS } from './limits.js';
export type { Metric } from './metric.js';
export { ingestMetricSchema, type IngestMetric } from './ingest-schema.js';
export { decodeEntry, decodeEntryInto, encodeEntries, encodeEntry, ENTRY_WORDS, wordText, type DecodedEntry, type EntryWord, type MetricColumns } from './stream-entry.js';
