import { expect } from 'chai';
import { endpointTarget } from '../../src/connection.js';

describe('endpointTarget: REDIS_URL and the secret files as ioredis sees them', () => {
  it('passes a plain URL through with no options', () => {
    expect(endpointTarget({ redisUrl: 'redis://redis:6379' })).to.deep.equal({ url: 'redis://redis:6379', options: {} });
  });

  it('leaves user and password in the URL to ioredis when no password file is given', () => {
    expect(endpointTarget({ redisUrl: 'redis://api:pw@redis:6379/0' })).to.deep.equal({ url: 'redis://api:pw@redis:6379/0', options: {} });
  });

  it("takes the file's password over the URL's, keeping the URL's user; both travel as options", () => {
    const target = endpointTarget({ redisUrl: 'redis://api:old@redis:6379/2', redisPassword: 'n3w:p@ss/w%41rd' });
    expect(target.url).to.equal('redis://redis:6379/2');
    expect(target.options).to.deep.equal({ username: 'api', password: 'n3w:p@ss/w%41rd' });
    expect(endpointTarget({ redisUrl: 'redis://my%40user@redis', redisPassword: 'pw' }).options).to.deep.equal({ username: 'my@user', password: 'pw' });
  });

  it('gives the password alone (the default user) when the URL names no user', () => {
    const target = endpointTarget({ redisUrl: 'redis://:old@redis:6379', redisPassword: 'pw' });
    expect(target.url).to.equal('redis://redis:6379');
    expect(target.options).to.deep.equal({ password: 'pw' });
  });

  it('trusts the CA file for rediss://', () => {
    const target = endpointTarget({ redisUrl: 'rediss://analyzer@redis:6380', redisPassword: 'pw', redisTlsCa: 'PEM' });
    expect(target).to.deep.equal({ url: 'rediss://redis:6380', options: { username: 'analyzer', password: 'pw', tls: { ca: 'PEM' } } });
  });
});
