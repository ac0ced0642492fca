import type { IncomingMessage } from 'node:http';
import { parse as parseContentType } from 'content-type';
import getRawBody from 'raw-body';
import { HttpProblem } from './problem.js';

/**
 * Reads a JSON request body's bytes within `limit`. Answers 415 for another media type, 413 past
 * the limit, 400 for a body cut off; each names the body (or the content type) as the field. The
 * bytes are what an Idempotency-Key's fingerprint is taken of; {@link parseJsonBytes} parses them.
 */
export async function readJsonBytes(req: IncomingMessage, limit: number): Promise<Buffer> {
  assertJson(req);
  try {
    // Bytes, decoded in parseJsonBytes: asking raw-body for a string sets up an iconv decoder per request.
    return await getRawBody(req, { limit, length: req.headers['content-length'] });
  } catch (err) {
    throw bodyProblem(err as { type?: string; status?: number; message: string }, limit);
  }
}

/** Parses a body read by {@link readJsonBytes} as UTF-8 JSON; 400 (naming the body) if it is not. */
export function parseJsonBytes(bytes: Buffer): unknown {
  let text = bytes.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a byte order mark is not JSON
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new HttpProblem(400, 'invalid-json', 'Invalid JSON', `the body is not valid JSON: ${(err as Error).message}`, [
      { field: '(body)', pointer: '', message: 'must be valid JSON' },
    ]);
  }
}

function assertJson(req: IncomingMessage): void {
  const header = req.headers['content-type'];
  if (header === 'application/json') return; // what nearly every client sends: skip the parser
  let type = '';
  try {
    if (header) type = parseContentType(header).type;
  } catch {
    // an unparseable header is as good as a wrong one
  }
  if (type === 'application/json' || type.endsWith('+json')) return;
  throw new HttpProblem(
    415,
    'unsupported-media-type',
    'Unsupported Media Type',
    `send the metrics as application/json (got ${header ? JSON.stringify(header) : 'no content-type'})`,
    [{ field: '(content-type)', pointer: '', message: 'must be application/json' }],
  );
}

function bodyProblem(err: { type?: string; status?: number; message: string }, limit: number): HttpProblem {
  if (err.type === 'entity.too.large') {
    return new HttpProblem(413, 'body-too-large', 'Payload Too Large', `the body exceeds ${limit} bytes (MAX_BODY_BYTES)`, [
      { field: '(body)', pointer: '', message: `must be at most ${limit} bytes` },
    ], { connection: 'close' });
  }
  if (err.type === 'encoding.unsupported' || err.type === 'charset.unsupported') {
    return new HttpProblem(415, 'unsupported-media-type', 'Unsupported Media Type', err.message);
  }
  return new HttpProblem(400, 'invalid-body', 'Bad Request', `the body could not be read: ${err.message}`, [
    { field: '(body)', pointer: '', message: 'must be sent completely' },
  ], { connection: 'close' });
}
