import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { ACL_USERS, aclFileLine, aclRules, aclSetUserCommand, aclUser, grantedCommands, IDEMPOTENCY_RECORD_COMMANDS, KEDA_COMMANDS, SERVICE_COMMANDS } from '../../src/acl.js';

const commands = (rules: string[]) => rules.filter((r) => r.startsWith('+')).map((r) => r.slice(1));
const keyRules = (rules: string[]) => rules.filter((r) => /^(%R|%W|%RW)?~/.test(r));
const selectors = (rules: string[]) => rules.filter((r) => r.startsWith('('));

describe('Redis ACL users (acl.ts)', () => {
  it('starts from nothing: no command category, no channel, then the listed commands', () => {
    for (const service of ['api', 'analyzer'] as const) {
      const rules = aclRules(service, 'metrics');
      expect(rules.slice(0, 2)).to.deep.equal(['resetchannels', '-@all']);
      expect(commands(rules)).to.deep.equal([...SERVICE_COMMANDS[service]]);
      expect(rules.filter((r) => r.includes('@') && r !== '-@all'), `${service}: categories`).to.be.empty;
      expect(rules, `${service}: all keys or all commands`).to.not.include.members(['~*', 'allkeys', 'allcommands', '+@all', 'nopass']);
    }
  });

  it('lets the api write only the events stream and its idempotency records, and only read the stats and anomalies; no dead letters', () => {
    expect(keyRules(aclRules('api', 'metrics'))).to.deep.equal([
      '~metrics:{*}:events',
      '~metrics:{*}:idem:*',
      '%R~metrics:{*}:stats',
      '%R~metrics:{*}:anomalies',
    ]);
  });

  it('grants the api GET and SET on its idempotency records alone, in a selector (SET on the stream would replace it)', () => {
    expect(selectors(aclRules('api', 'metrics'))).to.deep.equal(['(+get +set ~metrics:{*}:idem:*)']);
    expect(IDEMPOTENCY_RECORD_COMMANDS).to.deep.equal(['get', 'set']);
    for (const c of IDEMPOTENCY_RECORD_COMMANDS) expect(SERVICE_COMMANDS.api, `${c} on every api key`).to.not.include(c);
    expect(grantedCommands('api')).to.deep.equal([...SERVICE_COMMANDS.api, 'get', 'set']);
    expect(selectors(aclRules('analyzer', 'metrics'))).to.be.empty;
    expect(grantedCommands('analyzer')).to.deep.equal(SERVICE_COMMANDS.analyzer);
  });

  it('gives the analyzer the four keys of its series, read and write (EVAL needs both on every key)', () => {
    expect(keyRules(aclRules('analyzer', 'pfx'))).to.deep.equal(['~pfx:{*}:events', '~pfx:{*}:stats', '~pfx:{*}:anomalies', '~pfx:{*}:dead']);
  });

  it('keeps administration and acknowledgement away from the api', () => {
    const api = commands(aclRules('api', 'metrics'));
    for (const forbidden of ['flushall', 'flushdb', 'config', 'keys', 'xack', 'del', 'unlink', 'hset', 'hincrby', 'zadd', 'acl', 'debug', 'shutdown', 'xreadgroup', 'script', 'expire', 'rename']) {
      expect(api, `api may ${forbidden}`).to.not.include(forbidden);
      expect(grantedCommands('api'), `api may ${forbidden} somewhere`).to.not.include(forbidden);
    }
    const analyzer = commands(aclRules('analyzer', 'metrics'));
    for (const forbidden of ['flushall', 'flushdb', 'config', 'keys', 'del', 'acl', 'debug', 'shutdown', 'script']) {
      expect(analyzer, `analyzer may ${forbidden}`).to.not.include(forbidden);
    }
  });

  it('refuses a prefix that would widen or split the key patterns', () => {
    for (const prefix of ['', 'a*', 'a?', 'a[b]', 'a\\b', 'a b', 'a{b}']) {
      expect(() => aclRules('api', prefix), JSON.stringify(prefix)).to.throw(/key prefix/);
    }
    expect(() => aclRules('other' as 'api', 'metrics')).to.throw(/unknown ACL user "other" \(api, analyzer, keda\)/);
    expect(() => aclRules('keda', 'a*')).to.throw(/key prefix/);
  });

  it('writes a password only as its SHA-256; without one the user cannot log in', () => {
    const hash = createHash('sha256').update('s3cret').digest('hex');
    expect(aclUser('api', 'metrics', 's3cret').slice(0, 4)).to.deep.equal(['api', 'reset', 'on', `#${hash}`]);
    expect(aclSetUserCommand('api', 'metrics', 's3cret')).to.not.include('s3cret');
    const none = aclUser('api', 'metrics');
    expect(none.slice(0, 3)).to.deep.equal(['api', 'reset', 'on']);
    expect(none.some((w) => w.startsWith('>') || w.startsWith('#') || w === 'nopass')).to.equal(false);
  });

  it('quotes for a shell what a shell would expand, and leaves the ACL file line bare', () => {
    const command = aclSetUserCommand('api', 'metrics');
    expect(command).to.match(/^ACL SETUSER api reset on resetchannels -@all /);
    expect(command).to.include("'+client|setname'").and.include("'~metrics:{*}:events'").and.include("'%R~metrics:{*}:stats'");
    expect(command).to.include("'(+get +set ~metrics:{*}:idem:*)'"); // one word for redis-cli
    expect(aclFileLine('api', 'metrics')).to.equal(`user ${aclUser('api', 'metrics').join(' ')}`);
  });

  describe('the keda user (KEDA\'s redis-streams scaler, lagCount)', () => {
    it('is the third user, after the two services', () => {
      expect(ACL_USERS).to.deep.equal(['api', 'analyzer', 'keda']);
    });

    it('may PING, INFO, XINFO GROUPS and XLEN, and only read the events stream: exactly these rules', () => {
      expect(KEDA_COMMANDS).to.deep.equal(['ping', 'info', 'xinfo|groups', 'xlen']);
      expect(aclRules('keda', 'metrics')).to.deep.equal(['resetchannels', '-@all', '+ping', '+info', '+xinfo|groups', '+xlen', '%R~metrics:{*}:events']);
      expect(aclRules('keda', 'pfx')).to.deep.equal(['resetchannels', '-@all', '+ping', '+info', '+xinfo|groups', '+xlen', '%R~pfx:{*}:events']);
      expect(grantedCommands('keda')).to.deep.equal(KEDA_COMMANDS);
    });

    it('is printed like the others: SHA-256 password, quoted for a shell, bare in an ACL file', () => {
      const hash = createHash('sha256').update('k3da').digest('hex');
      expect(aclUser('keda', 'metrics', 'k3da')).to.deep.equal(['keda', 'reset', 'on', `#${hash}`, ...aclRules('keda', 'metrics')]);
      expect(aclSetUserCommand('keda', 'metrics')).to.equal("ACL SETUSER keda reset on resetchannels -@all +ping +info '+xinfo|groups' +xlen '%R~metrics:{*}:events'");
      expect(aclFileLine('keda', 'metrics')).to.equal('user keda reset on resetchannels -@all +ping +info +xinfo|groups +xlen %R~metrics:{*}:events');
    });
  });
});
