import { CPU_MAX, RPS_MAX, TIMESTAMP_MAX_SECONDS } from './limits.js';
import type { Metric } from './metric.js';

/**
 * The stream entry format (a public interface, DESIGN.md): fields `ts`, `cpu`, `rps`, each the
 * decimal text JavaScript's String(number) prints, so every double survives the round trip.
 */
export function encodeEntry(metric: Metric): string[] {
  return ['ts', String(metric.timestamp), 'cpu', String(metric.cpu), 'rps', String(metric.rps)];
}

/** Words of one entry: ts, cpu, rps and their values. */
export const ENTRY_WORDS = 6;

/**
 * Many entries' words (encodeEntry's, ENTRY_WORDS per entry) joined by single spaces, as the api's
 * append scripts take them: one string instead of thousands. No word holds a space.
 */
export function encodeEntries(metrics: readonly Metric[]): string {
  const words: string[] = [];
  for (const metric of metrics) words.push('ts', String(metric.timestamp), 'cpu', String(metric.cpu), 'rps', String(metric.rps));
  return words.join(' ');
}

export type DecodedEntry =
  | { readonly ok: true; readonly metric: Metric }
  | { readonly ok: false; readonly reason: string };

/** A field name or value as Redis returns it: text, or its raw bytes (ioredis's `…Buffer` commands). */
export type EntryWord = string | Buffer;

/** Metrics decoded column by column: row i of each array belongs to the same entry. */
export interface MetricColumns {
  readonly timestamp: Float64Array;
  readonly cpu: Float64Array;
  readonly rps: Float64Array;
}

// Plain decimal numbers only: Number() alone would also take '', ' 1', '0x1f' and 'Infinity'.
// Written so that no two quantifiers compete for the same digits: linear time on any input (a
// long digit run ending in a letter made the older form backtrack quadratically).
const DECIMAL = /^-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * Reads a stream entry's flat field list back into a metric, or says why it is not one.
 * Other producers may write the stream directly, so nothing is assumed; unknown extra fields are
 * tolerated, a repeated known field is not.
 */
export function decodeEntry(fields: readonly EntryWord[]): DecodedEntry {
  const reason = decodeEntryInto(fields, ONE_ROW, 0);
  if (reason !== null) return { ok: false, reason };
  return { ok: true, metric: { timestamp: ONE_ROW.timestamp[0]!, cpu: ONE_ROW.cpu[0]!, rps: ONE_ROW.rps[0]! } };
}

/** decodeEntry's scratch row, read back before it returns (so sharing it is safe). */
const ONE_ROW: MetricColumns = { timestamp: new Float64Array(1), cpu: new Float64Array(1), rps: new Float64Array(1) };

/**
 * decodeEntry without an object per entry (the analyzer's hot path): writes the metric into row
 * `row` of `into` and returns null, or returns why the entry is not a metric.
 */
export function decodeEntryInto(fields: readonly EntryWord[], into: MetricColumns, row: number): string | null {
  let ts: EntryWord | undefined;
  let cpu: EntryWord | undefined;
  let rps: EntryWord | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fieldName(fields[i]!);
    const value = fields[i + 1];
    if (name === TS) {
      if (ts !== undefined) return 'field ts appears twice';
      ts = value;
    } else if (name === CPU) {
      if (cpu !== undefined) return 'field cpu appears twice';
      cpu = value;
    } else if (name === RPS) {
      if (rps !== undefined) return 'field rps appears twice';
      rps = value;
    }
  }
  const timestamp = readNumber('ts', ts, TIMESTAMP_MAX_SECONDS);
  if (typeof timestamp === 'string') return timestamp;
  const cpuValue = readNumber('cpu', cpu, CPU_MAX);
  if (typeof cpuValue === 'string') return cpuValue;
  const rpsValue = readNumber('rps', rps, RPS_MAX);
  if (typeof rpsValue === 'string') return rpsValue;
  into.timestamp[row] = timestamp;
  into.cpu[row] = cpuValue;
  into.rps[row] = rpsValue;
  return null;
}

/** The text of a word (UTF-8 for bytes, as Redis clients decode replies). */
export function wordText(word: EntryWord): string {
  return typeof word === 'string' ? word : word.toString('utf8');
}

const TS = 1;
const CPU = 2;
const RPS = 3;
const OTHER = 0;

/** Which known field a name is, comparing bytes directly when it has not been decoded. */
function fieldName(word: EntryWord): number {
  if (typeof word === 'string') return word === 'ts' ? TS : word === 'cpu' ? CPU : word === 'rps' ? RPS : OTHER;
  if (word.length === 2) return word[0] === 0x74 && word[1] === 0x73 ? TS : OTHER; // ts
  if (word.length !== 3 || word[1] !== 0x70) return OTHER;
  if (word[0] === 0x63 && word[2] === 0x75) return CPU; // cpu
  if (word[0] === 0x72 && word[2] === 0x73) return RPS; // rps
  return OTHER;
}

/** The number, or a sentence saying what is wrong with it. */
function readNumber(name: string, word: EntryWord | undefined, max: number): number | string {
  if (word === undefined) return `field ${name} is missing`;
  const fast = typeof word === 'string' ? NaN : exactPlainDecimal(word);
  let value: number;
  if (!Number.isNaN(fast)) {
    value = fast;
  } else {
    const text = wordText(word);
    if (!DECIMAL.test(text)) return `field ${name} is not a decimal number: ${JSON.stringify(text.slice(0, 40))}`;
    value = Number(text);
  }
  if (!Number.isFinite(value) || value < 0 || value > max) return `field ${name} is out of range [0, ${max}]: ${wordText(word)}`;
  return value;
}

/** 10^0 … 10^22, every one exact in a double. */
const POWERS_OF_TEN = Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));
const EXACT_INTEGER_LIMIT = 2 ** 53;

/**
 * The value of `-?digits[.digits]` when its digits, read as one integer M, stay below 2^53 and it
 * has at most 22 fraction digits: M and 10^k are then exact doubles, and one correctly rounded
 * division gives exactly what Number() gives for that text (the fast path of every correct
 * strtod). Anything else (exponents, long digit runs, stray bytes) returns NaN: the general path.
 */
function exactPlainDecimal(bytes: Buffer): number {
  const length = bytes.length;
  let i = bytes[0] === 0x2d ? 1 : 0; // '-'
  let mantissa = 0;
  let digits = 0;
  let fractionDigits = -1; // -1: no '.' seen
  for (; i < length; i++) {
    const c = bytes[i]!;
    if (c >= 0x30 && c <= 0x39) {
      mantissa = mantissa * 10 + (c - 0x30);
      digits++;
      if (fractionDigits >= 0) fractionDigits++;
    } else if (c === 0x2e && fractionDigits < 0) {
      fractionDigits = 0;
    } else {
      return NaN;
    }
  }
  if (digits === 0 || mantissa >= EXACT_INTEGER_LIMIT || fractionDigits > 22) return NaN;
  const value = fractionDigits > 0 ? mantissa / POWERS_OF_TEN[fractionDigits]! : mantissa;
  return bytes[0] === 0x2d ? -value : value;
}
