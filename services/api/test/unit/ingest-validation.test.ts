import { expect } from 'chai';
import { validateIngestBody, withTimestamps } from '../../src/ingest-validation.js';
import { HttpProblem, type FieldError } from '../../src/problem.js';

const MAX_BATCH = 10;
const ok = (i: number) => ({ timestamp: 1764000000 + i, cpu: 10 + i, rps: 100 + i });

function problemOf(body: unknown, maxBatch = MAX_BATCH): HttpProblem {
  try {
    validateIngestBody(body, maxBatch);
  } catch (error) {
    expect(error).to.be.instanceOf(HttpProblem);
    return error as HttpProblem;
  }
  return expect.fail(`expected ${JSON.stringify(body)} to be rejected`);
}

/** The body must be rejected with 400 and exactly one field error, which is returned. */
function onlyError(body: unknown): FieldError {
  const problem = problemOf(body);
  expect(problem.status).to.equal(400);
  expect(problem.kind).to.equal('invalid-metric');
  expect(problem.errors).to.have.length(1);
  return problem.errors[0]!;
}

describe('validateIngestBody', () => {
  it('accepts a single metric and returns it as a batch of one', () => {
    expect(validateIngestBody({ timestamp: 1764000000.25, cpu: 55.5, rps: 1200 }, MAX_BATCH)).to.deep.equal([
      { timestamp: 1764000000.25, cpu: 55.5, rps: 1200 },
    ]);
  });

  it('accepts a metric without a timestamp', () => {
    expect(validateIngestBody({ cpu: 0, rps: 0 }, MAX_BATCH)).to.deep.equal([{ cpu: 0, rps: 0 }]);
  });

  it('accepts an array of metrics, in order, up to maxBatch', () => {
    const batch = Array.from({ length: MAX_BATCH }, (_, i) => ok(i));
    expect(validateIngestBody(batch, MAX_BATCH)).to.deep.equal(batch);
  });

  it('accepts the bounds: cpu 10000, rps 1e9, timestamp 1e11', () => {
    expect(validateIngestBody({ timestamp: 1e11, cpu: 10000, rps: 1e9 }, MAX_BATCH)).to.have.length(1);
  });

  it('rejects an empty array with 400', () => {
    expect(onlyError([])).to.include({ field: '(body)', pointer: '' });
  });

  it('rejects a batch over maxBatch with 413 naming MAX_BATCH', () => {
    const problem = problemOf(Array.from({ length: MAX_BATCH + 1 }, (_, i) => ok(i)));
    expect(problem.status).to.equal(413);
    expect(problem.kind).to.equal('batch-too-large');
    expect(problem.detail).to.include('MAX_BATCH').and.include(String(MAX_BATCH + 1));
    expect(problem.errors).to.have.length(1);
  });

  it('rejects a missing cpu naming the field', () => {
    expect(onlyError({ rps: 1 })).to.deep.equal({ field: 'cpu', pointer: '/cpu', message: 'is required' });
  });

  it('rejects a missing rps naming the field', () => {
    expect(onlyError({ cpu: 1 })).to.deep.equal({ field: 'rps', pointer: '/rps', message: 'is required' });
  });

  it('rejects an unknown property naming it', () => {
    const error = onlyError({ cpu: 1, rps: 1, memory: 3 });
    expect(error).to.include({ field: 'memory', pointer: '/memory' });
    expect(error.message).to.include('not a known field');
  });

  it('rejects a number given as a string (no coercion) and leaves the body unchanged', () => {
    const body = { cpu: '50', rps: 1 };
    expect(onlyError(body)).to.deep.equal({ field: 'cpu', pointer: '/cpu', message: 'must be a finite number' });
    expect(body.cpu).to.equal('50');
  });

  it('rejects Infinity (a JSON 1e400)', () => {
    expect(onlyError(JSON.parse('{"cpu": 1, "rps": 1e400}'))).to.include({ field: 'rps', pointer: '/rps' });
    expect(onlyError(JSON.parse('{"cpu": 1, "rps": 1, "timestamp": 1e400}'))).to.include({ field: 'timestamp' });
  });

  it('rejects negative values naming the field', () => {
    expect(onlyError({ cpu: -0.5, rps: 1 })).to.include({ field: 'cpu', pointer: '/cpu' });
    expect(onlyError({ cpu: 1, rps: -1 })).to.include({ field: 'rps', pointer: '/rps' });
    expect(onlyError({ cpu: 1, rps: 1, timestamp: -1 })).to.include({ field: 'timestamp', pointer: '/timestamp' });
  });

  it('rejects cpu above 10000 and rps above 1e9', () => {
    expect(onlyError({ cpu: 10000.5, rps: 1 })).to.include({ field: 'cpu' });
    expect(onlyError({ cpu: 1, rps: 1e9 + 1 })).to.include({ field: 'rps' });
  });

  it('rejects a millisecond timestamp with a message about milliseconds and seconds', () => {
    const error = onlyError({ timestamp: 1764000000000, cpu: 1, rps: 1 });
    expect(error).to.include({ field: 'timestamp', pointer: '/timestamp' });
    expect(error.message).to.include('milliseconds').and.include('seconds').and.include('1764000000000');
  });

  it('locates an error in a batch by index and JSON pointer', () => {
    const batch = [ok(0), ok(1), ok(2), { ...ok(3), timestamp: 1764000000000 }, ok(4)];
    const problem = problemOf(batch);
    expect(problem.status).to.equal(400);
    expect(problem.errors).to.have.length(1);
    expect(problem.errors[0]).to.include({ field: 'timestamp', index: 3, pointer: '/3/timestamp' });
    expect(problem.detail).to.match(/^\[3\]\.timestamp: /);
  });

  it('lists the errors of every bad item in a batch', () => {
    const problem = problemOf([ok(0), { cpu: 1 }, ok(2), ok(3), { cpu: 1, rps: 1, extra: true }]);
    expect(problem.errors.map((e) => [e.index, e.pointer])).to.deep.equal([
      [1, '/1/rps'],
      [4, '/4/extra'],
    ]);
    expect(problem.detail).to.include('and 1 more');
  });

  it('lists at most 20 errors', () => {
    const problem = problemOf(Array.from({ length: 30 }, () => ({ cpu: -1, rps: -1 })), 100);
    expect(problem.errors).to.have.length(20);
  });

  for (const [what, body] of [
    ['a number', 42],
    ['a string', 'cpu=1'],
    ['null', null],
    ['a boolean', true],
  ] as const) {
    it(`rejects ${what} as the body, naming the body`, () => {
      const error = onlyError(body);
      expect(error).to.include({ field: '(body)', pointer: '' });
      expect(error.message).to.include('JSON object');
    });
  }

  it('rejects a nested array, naming the item', () => {
    const error = onlyError([[{ cpu: 1, rps: 1 }]]);
    expect(error).to.include({ field: '(body)', index: 0, pointer: '/0' });
    expect(error.message).to.include('JSON object');
  });

  it('rejects a null item in a batch, naming its index', () => {
    expect(onlyError([ok(0), null])).to.include({ index: 1, pointer: '/1' });
  });
});

describe('HttpProblem', () => {
  it('carries status, kind, title, detail and field errors', () => {
    const problem = problemOf({ rps: 1 });
    expect(problem).to.be.instanceOf(Error);
    expect(problem.name).to.equal('HttpProblem');
    expect(problem).to.include({ status: 400, kind: 'invalid-metric', title: 'Invalid Metric' });
    expect(problem.detail).to.equal('cpu: is required');
    expect(problem.message).to.equal(problem.detail);
    expect(problem.errors).to.deep.equal([{ field: 'cpu', pointer: '/cpu', message: 'is required' }]);
  });
});

describe('withTimestamps', () => {
  const NOW = 1764000123;

  it('gives an absent timestamp the current time', () => {
    expect(withTimestamps([{ cpu: 1, rps: 2 }], NOW)).to.deep.equal([{ timestamp: NOW, cpu: 1, rps: 2 }]);
  });

  it('treats timestamp 0 as absent', () => {
    expect(withTimestamps([{ timestamp: 0, cpu: 1, rps: 2 }], NOW)).to.deep.equal([{ timestamp: NOW, cpu: 1, rps: 2 }]);
  });

  it('keeps a given timestamp, fractions included, item by item', () => {
    const input = [{ timestamp: 1764000000.125, cpu: 1, rps: 2 }, { cpu: 3, rps: 4 }, { timestamp: 1, cpu: 5, rps: 6 }];
    expect(withTimestamps(input, NOW)).to.deep.equal([
      { timestamp: 1764000000.125, cpu: 1, rps: 2 },
      { timestamp: NOW, cpu: 3, rps: 4 },
      { timestamp: 1, cpu: 5, rps: 6 },
    ]);
    expect(input[1]).to.deep.equal({ cpu: 3, rps: 4 });
  });
});
