import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import { expect } from 'chai';
import { readJsonBytes } from '../../src/request-body.js';
import type { HttpProblem } from '../../src/problem.js';

const LIMIT = 64;

/** A request body stream with the headers readJsonBytes reads, as node:http gives them. */
function request(headers: Record<string, string>): PassThrough & IncomingMessage {
  return Object.assign(new PassThrough(), { headers: { 'content-type': 'application/json', ...headers } }) as unknown as PassThrough & IncomingMessage;
}

/** Every call of readJsonBytes's callback, once the stream has settled. */
async function read(req: PassThrough & IncomingMessage, feed: (req: PassThrough) => void, limit = LIMIT) {
  const calls: { problem: HttpProblem | null; bytes: Buffer }[] = [];
  readJsonBytes(req, limit, (problem, bytes) => calls.push({ problem, bytes }));
  feed(req);
  await new Promise((resolve) => setTimeout(resolve, 20));
  return calls;
}

function expectProblem(calls: { problem: HttpProblem | null }[], status: number, kind: string, field: string) {
  expect(calls, 'the callback is called exactly once').to.have.length(1);
  const problem = calls[0]!.problem;
  expect(problem).to.include({ status, kind });
  expect(problem!.errors[0]).to.include({ field });
  return problem!;
}

describe('readJsonBytes', () => {
  it('gives the bytes of a body sent in one chunk', async () => {
    const calls = await read(request({ 'content-length': '13' }), (r) => r.end('{"cpu":1.5}\r\n'));
    expect(calls).to.have.length(1);
    expect(calls[0]!.problem).to.equal(null);
    expect(calls[0]!.bytes.toString()).to.equal('{"cpu":1.5}\r\n');
  });

  it('joins the chunks of a chunked body (no content-length), non-ASCII bytes split across them', async () => {
    const bytes = Buffer.from('{"host":"Zürich"}');
    const calls = await read(request({}), (r) => {
      r.write(bytes.subarray(0, 12)); // inside the two bytes of ü
      r.write(bytes.subarray(12, 13));
      r.end(bytes.subarray(13));
    });
    expect(calls).to.have.length(1);
    expect(calls[0]!.problem).to.equal(null);
    expect(calls[0]!.bytes.equals(bytes)).to.equal(true);
  });

  it('accepts application/json with parameters and +json types', async () => {
    for (const type of ['application/json; charset=utf-8', 'Application/JSON', 'application/vnd.metrics+json']) {
      const calls = await read(request({ 'content-type': type }), (r) => r.end('{}'));
      expect(calls[0]!.problem, type).to.equal(null);
    }
  });

  it('415 naming the content type for another media type, without reading the body', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'not a type', '']) {
      const req = request({ 'content-type': type });
      const calls = await read(req, (r) => r.write('{}'));
      const problem = expectProblem(calls, 415, 'unsupported-media-type', '(content-type)');
      expect(problem.detail).to.include(type ? JSON.stringify(type) : 'no content-type');
      expect(req.readableFlowing, 'nobody reads the body').to.equal(null);
    }
  });

  it('413 at once when Content-Length is over the limit: no byte of the body is read', async () => {
    const req = request({ 'content-length': String(LIMIT + 1) });
    const calls = await read(req, (r) => r.write('x'));
    const problem = expectProblem(calls, 413, 'body-too-large', '(body)');
    expect(problem.detail).to.include(`${LIMIT} bytes (MAX_BODY_BYTES)`);
    expect(problem.headers).to.include({ connection: 'close' });
    expect(req.readableLength, 'the written byte is left unread').to.equal(1);
  });

  it('413 once a chunked body grows past the limit, and stops reading', async () => {
    const req = request({});
    const calls = await read(req, (r) => {
      r.write('x'.repeat(LIMIT));
      r.write('y');
      r.write('z'.repeat(LIMIT));
      r.end();
    });
    expectProblem(calls, 413, 'body-too-large', '(body)');
    expect(req.isPaused(), 'the stream is paused').to.equal(true);
  });

  it('a body of exactly the limit is read', async () => {
    const calls = await read(request({ 'content-length': String(LIMIT) }), (r) => r.end('x'.repeat(LIMIT)));
    expect(calls[0]!.problem).to.equal(null);
    expect(calls[0]!.bytes.length).to.equal(LIMIT);
  });

  it('400 naming the body when the request is cut off (stream error, then close)', async () => {
    const calls = await read(request({ 'content-length': '20' }), (r) => {
      r.write('{"cpu":');
      r.destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
    });
    const problem = expectProblem(calls, 400, 'invalid-body', '(body)');
    expect(problem.detail).to.equal('the body could not be read: aborted');
    expect(problem.headers).to.include({ connection: 'close' });
  });

  it('400 when the stream closes before its end without an error', async () => {
    const calls = await read(request({}), (r) => {
      r.write('{"cpu":');
      r.destroy();
    });
    expect(expectProblem(calls, 400, 'invalid-body', '(body)').detail).to.equal('the body could not be read: request aborted');
  });

  it('400 when fewer bytes than Content-Length arrive before the end', async () => {
    const calls = await read(request({ 'content-length': '10' }), (r) => r.end('{}'));
    expect(expectProblem(calls, 400, 'invalid-body', '(body)').detail).to.include('did not match content length');
  });
});
