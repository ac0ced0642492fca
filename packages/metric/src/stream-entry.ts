import { CPU_MAX, RPS_MAX, TIMESTAMP_MAX_SECONDS } from './limits.js';
import type { Metric } from './metric.js';

/**
 * The stream entry format (a public interface, DESIGN.md): fields `ts`, `cpu`, `rps`, each the
 * decimal text JavaScript's String(number) prints, so every double survives the round trip.
 */
export function encodeEntry(metric: Metric): string[] {
  return ['ts', String(metric.timestamp), 'cpu', String(metric.cpu), 'rps', String(metric.rps)];
}

export type DecodedEntry =
  | { readonly ok: true; readonly metric: Metric }
  | { readonly ok: false; readonly reason: string };

// Plain decimal numbers only: Number() alone would also take '', ' 1', '0x1f' and 'Infinity'.
// Written so that no two quantifiers compete for the same digits: linear time on any input (a
// long digit run ending in a letter made the older form backtrack quadratically).
const DECIMAL = /^-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * Reads a stream entry's flat field list back into a metric, or says why it is not one.
 * Other producers may write the stream directly, so nothing is assumed; unknown extra fields are
 * tolerated, a repeated known field is not.
 */
export function decodeEntry(fields: readonly string[]): DecodedEntry {
  let ts: string | undefined;
  let cpu: string | undefined;
  let rps: string | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i];
    const value = fields[i + 1];
    if (name === 'ts') {
      if (ts !== undefined) return bad('field ts appears twice');
      ts = value;
    } else if (name === 'cpu') {
      if (cpu !== undefined) return bad('field cpu appears twice');
      cpu = value;
    } else if (name === 'rps') {
      if (rps !== undefined) return bad('field rps appears twice');
      rps = value;
    }
  }
  const timestamp = readNumber('ts', ts, TIMESTAMP_MAX_SECONDS);
  if (typeof timestamp === 'string') return bad(timestamp);
  const cpuValue = readNumber('cpu', cpu, CPU_MAX);
  if (typeof cpuValue === 'string') return bad(cpuValue);
  const rpsValue = readNumber('rps', rps, RPS_MAX);
  if (typeof rpsValue === 'string') return bad(rpsValue);
  return { ok: true, metric: { timestamp, cpu: cpuValue, rps: rpsValue } };
}

/** The number, or a sentence saying what is wrong with it. */
function readNumber(name: string, text: string | undefined, max: number): number | string {
  if (text === undefined) return `field ${name} is missing`;
  if (!DECIMAL.test(text)) return `field ${name} is not a decimal number: ${JSON.stringify(text.slice(0, 40))}`;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0 || value > max) return `field ${name} is out of range [0, ${max}]: ${text}`;
  return value;
}

function bad(reason: string): DecodedEntry {
  return { ok: false, reason };
}
