import { expect } from 'chai';
import { authorize, createAccessPolicy, type AccessPolicy, type Scope } from '../../src/access.js';
import { HttpProblem } from '../../src/problem.js';

const INGEST = 'ingest-token-0123456789abcdef';
const INGEST_2 = 'ingest-token-second-0123456789';
const READ = 'read-token-0123456789abcdef';

/** The problem authorize throws, or null when it lets the request through. */
function outcome(policy: AccessPolicy, scope: Scope, header: string | undefined): HttpProblem | null {
  try {
    authorize(policy, scope, header);
    return null;
  } catch (err) {
    expect(err).to.be.instanceOf(HttpProblem);
    return err as HttpProblem;
  }
}

describe('authorize (bearer tokens)', () => {
  const both = createAccessPolicy({ ingest: [INGEST, INGEST_2], read: [READ] });

  it('lets everything through when no tokens are configured (off by default)', () => {
    const open = createAccessPolicy({ ingest: [], read: [] });
    for (const scope of ['ingest', 'read'] as const) {
      for (const header of [undefined, '', 'Bearer nonsense', 'Basic abc']) expect(outcome(open, scope, header)).to.equal(null);
    }
  });

  it('accepts each configured token of the scope, the scheme in any case', () => {
    expect(outcome(both, 'ingest', `Bearer ${INGEST}`)).to.equal(null);
    expect(outcome(both, 'ingest', `bearer ${INGEST_2}`)).to.equal(null);
    expect(outcome(both, 'read', `BEARER ${READ}`)).to.equal(null);
  });

  it('answers 401 with a Bearer challenge to a missing token, without an error code', () => {
    const problem = outcome(both, 'read', undefined)!;
    expect(problem.status).to.equal(401);
    expect(problem.kind).to.equal('unauthorized');
    expect(problem.headers).to.deep.equal({ 'www-authenticate': 'Bearer realm="metrics-pipeline"' });
  });

  it('answers 401 invalid_token to an unknown, truncated, extended or malformed token', () => {
    for (const header of [`Bearer ${INGEST.slice(0, -1)}`, `Bearer ${INGEST}x`, 'Bearer ', `Basic ${INGEST}`, INGEST, `Bearer ${INGEST} extra`, '']) {
      const problem = outcome(both, 'ingest', header);
      expect(problem?.status, JSON.stringify(header)).to.equal(401);
      expect(problem!.headers['www-authenticate']).to.equal('Bearer realm="metrics-pipeline", error="invalid_token"');
    }
  });

  it('answers 403 insufficient_scope to a token of the other set: an ingest token does not read, a read token does not ingest', () => {
    const readWithIngest = outcome(both, 'read', `Bearer ${INGEST}`)!;
    expect(readWithIngest.status).to.equal(403);
    expect(readWithIngest.kind).to.equal('forbidden');
    expect(readWithIngest.headers['www-authenticate']).to.equal('Bearer realm="metrics-pipeline", error="insufficient_scope"');
    expect(outcome(both, 'ingest', `Bearer ${READ}`)!.status).to.equal(403);
  });

  it('guards each scope on its own: with only INGEST_TOKENS the reads stay open', () => {
    const ingestOnly = createAccessPolicy({ ingest: [INGEST], read: [] });
    expect(outcome(ingestOnly, 'read', undefined)).to.equal(null);
    expect(outcome(ingestOnly, 'ingest', undefined)!.status).to.equal(401);
    expect(outcome(ingestOnly, 'ingest', `Bearer ${READ}`)!.status).to.equal(401);
  });

  it('keeps only digests, never the tokens', () => {
    expect(JSON.stringify(both)).to.not.include(INGEST).and.not.include(READ);
    expect(both.ingest!.map((d) => d.length)).to.deep.equal([32, 32]);
  });

  it('never puts the presented token into the problem it answers with', () => {
    for (const [scope, header] of [['ingest', `Bearer ${READ}`], ['read', 'Bearer wrong-token-0123456789']] as const) {
      const problem = outcome(both, scope, header)!;
      expect(JSON.stringify({ ...problem, detail: problem.detail, headers: problem.headers })).to.not.include(header.slice(7));
    }
  });
});
