import { Ajv, type ErrorObject } from 'ajv';
import { ingestMetricSchema, TIMESTAMP_MAX_SECONDS, type IngestMetric, type Metric } from '@pipeline/metric';
import { HttpProblem, type FieldError } from './problem.js';

// strictNumbers rejects NaN and Infinity (a JSON 1e400 parses to Infinity). No type coercion:
// "60" is not a number.
const ajv = new Ajv({ allErrors: true, strict: true, strictNumbers: true });
const validateMetric = ajv.compile<IngestMetric>(ingestMetricSchema);

/** At most this many field errors are listed in one answer. */
const MAX_LISTED_ERRORS = 20;

/**
 * Checks a parsed POST /ingest body: one metric or an array of 1..maxBatch of them, all valid
 * (a batch is all or nothing). Throws an HttpProblem naming every offending field.
 */
export function validateIngestBody(body: unknown, maxBatch: number): IngestMetric[] {
  if (Array.isArray(body)) {
    if (body.length === 0) throw invalid([{ field: '(body)', pointer: '', message: 'must contain at least one metric' }]);
    if (body.length > maxBatch) {
      throw new HttpProblem(413, 'batch-too-large', 'Batch Too Large', `a batch holds at most ${maxBatch} metrics (MAX_BATCH); got ${body.length}`, [
        { field: '(body)', pointer: '', message: `must contain at most ${maxBatch} metrics` },
      ]);
    }
    const errors: FieldError[] = [];
    for (let i = 0; i < body.length && errors.length < MAX_LISTED_ERRORS; i++) {
      if (!validateMetric(body[i])) errors.push(...describe(validateMetric.errors, body[i], i));
    }
    if (errors.length > 0) throw invalid(errors.slice(0, MAX_LISTED_ERRORS));
    return body as IngestMetric[];
  }
  if (!validateMetric(body)) throw invalid(describe(validateMetric.errors, body, undefined));
  return [body];
}

/** Gives each metric its timestamp: absent or 0 means now, in Unix seconds. */
export function withTimestamps(metrics: readonly IngestMetric[], nowSeconds: number): Metric[] {
  return metrics.map((m) => ({ timestamp: m.timestamp || nowSeconds, cpu: m.cpu, rps: m.rps }));
}

function invalid(errors: FieldError[]): HttpProblem {
  const first = errors[0]!;
  const where = first.index === undefined ? first.field : `[${first.index}].${first.field}`;
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
  return new HttpProblem(400, 'invalid-metric', 'Invalid Metric', `${where}: ${first.message}${more}`, errors);
}

function describe(errors: ErrorObject[] | null | undefined, item: unknown, index: number | undefined): FieldError[] {
  const prefix = index === undefined ? '' : `/${index}`;
  return (errors ?? []).map((e) => {
    const params = e.params as { missingProperty?: string; additionalProperty?: string };
    const field = params.missingProperty ?? params.additionalProperty ?? (e.instancePath.slice(1) || '(body)');
    const pointer = `${prefix}${e.instancePath}${params.missingProperty || params.additionalProperty ? `/${field}` : ''}`;
    return { field, ...(index === undefined ? {} : { index }), pointer, message: message(e, field, item) };
  });
}

function message(e: ErrorObject, field: string, item: unknown): string {
  if (e.keyword === 'additionalProperties') return 'is not a known field (allowed: timestamp, cpu, rps)';
  if (e.keyword === 'required') return 'is required';
  if (e.keyword === 'type' && e.instancePath === '') return 'must be a JSON object with cpu, rps and optionally timestamp';
  if (field === 'timestamp' && e.keyword === 'maximum') {
    const value = (item as { timestamp?: number }).timestamp;
    return `must be Unix seconds; ${value} looks like milliseconds (> ${TIMESTAMP_MAX_SECONDS}): send seconds, e.g. ${Math.floor(Date.now() / 1000)}`;
  }
  if (e.keyword === 'type') return 'must be a finite number';
  return e.message ?? 'is invalid';
}
