import type { IncomingMessage } from 'node:http';
import { expect } from 'chai';
import { checkIdempotencyKey, idempotencyKeyOf, keyReused, requestFingerprint } from '../../src/idempotency.js';
import { HttpProblem } from '../../src/problem.js';

/** The 400 problem `check` throws; it must name the header as its field. */
function refusal(check: () => unknown): HttpProblem {
  try {
    check();
  } catch (err) {
    expect(err).to.be.instanceOf(HttpProblem);
    const problem = err as HttpProblem;
    expect(problem.status).to.equal(400);
    expect(problem.kind).to.equal('invalid-idempotency-key');
    expect(problem.detail).to.match(/^header Idempotency-Key: /);
    expect(problem.errors).to.have.length(1);
    expect(problem.errors[0]).to.include({ field: '(idempotency-key)', pointer: '' });
    return problem;
  }
  return expect.fail('expected the key to be refused');
}

/** The parts of a request idempotencyKeyOf reads, as Node's parser fills them. */
const request = (...values: string[]) =>
  ({
    headers: values.length === 0 ? {} : { 'idempotency-key': values.join(', ') },
    headersDistinct: values.length === 0 ? {} : { 'idempotency-key': values },
  }) as unknown as IncomingMessage;

describe('Idempotency-Key header', () => {
  it('is optional: no header, no key', () => {
    expect(idempotencyKeyOf(request())).to.equal(undefined);
  });

  it('accepts 1 to 128 visible ASCII characters as they are, punctuation and quotes included', () => {
    for (const key of ['a', 'x'.repeat(128), '8e03978e-40d5-43e8-bc93-6894a57f9324', '"8e03978e-40d5"', '!#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~', '{default}:events']) {
      expect(checkIdempotencyKey(key), key).to.equal(key);
      expect(idempotencyKeyOf(request(key))).to.equal(key);
    }
  });

  it('refuses an empty value', () => {
    expect(refusal(() => checkIdempotencyKey('')).detail).to.include('empty');
  });

  it('refuses 129 characters, saying how many it got', () => {
    expect(refusal(() => checkIdempotencyKey('x'.repeat(129))).detail).to.include('128').and.include('129');
  });

  it('refuses a space, a control character, DEL and anything outside ASCII', () => {
    for (const key of ['a b', 'a\tb', 'a\u0001b', 'a\u007fb', 'ключ', 'caf\u00e9', 'caf\u00c3\u00a9' /* UTF-8 bytes read as latin1 */, 'a\u2028b']) {
      expect(refusal(() => checkIdempotencyKey(key)).detail, JSON.stringify(key)).to.include('visible ASCII');
    }
  });

  it('refuses the header sent twice, even with the same value', () => {
    expect(refusal(() => idempotencyKeyOf(request('a', 'b'))).detail).to.include('once');
    expect(refusal(() => idempotencyKeyOf(request('a', 'a'))).detail).to.include('once');
  });
});

describe('request fingerprint', () => {
  it('is the SHA-256 of the exact bytes, in hex', () => {
    expect(requestFingerprint(Buffer.from(''))).to.equal('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(requestFingerprint(Buffer.from('{"cpu":1,"rps":2}'))).to.match(/^[0-9a-f]{64}$/);
  });

  it('differs for the same JSON spelled differently (it is not a JSON comparison)', () => {
    expect(requestFingerprint(Buffer.from('{"cpu":1,"rps":2}'))).to.not.equal(requestFingerprint(Buffer.from('{"cpu": 1, "rps": 2}')));
  });
});

describe('a reused key', () => {
  it('is a 422 problem naming the header', () => {
    const problem = keyReused();
    expect(problem).to.include({ status: 422, kind: 'idempotency-key-reused' });
    expect(problem.detail).to.include('Idempotency-Key').and.include('different body');
    expect(problem.errors[0]).to.include({ field: '(idempotency-key)' });
  });
});
