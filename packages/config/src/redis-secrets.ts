import { readFileSync } from 'node:fs';

/** The Redis credentials kept out of REDIS_URL, read from files once at start. */
export interface RedisSecrets {
  /** From REDIS_PASSWORD_FILE; replaces the password in REDIS_URL. */
  readonly redisPassword?: string;
  /** PEM text from REDIS_TLS_CA_FILE: the CA a rediss:// server's certificate must chain to. */
  readonly redisTlsCa?: string;
}

/**
 * Reads REDIS_PASSWORD_FILE (the Kubernetes Secret-as-file pattern: `echo pw > file` leaves a
 * newline, so trailing CR/LF are dropped, nothing else) and REDIS_TLS_CA_FILE.
 * @returns the secrets and one problem line per bad variable (never quoting a file's content)
 */
export function readRedisSecrets(redisUrl: string, passwordFile?: string, caFile?: string): { secrets: RedisSecrets; problems: string[] } {
  const problems: string[] = [];
  let redisPassword: string | undefined;
  let redisTlsCa: string | undefined;
  if (passwordFile !== undefined) {
    const text = readText('REDIS_PASSWORD_FILE', passwordFile, problems);
    if (text !== undefined) {
      redisPassword = text.replace(/[\r\n]+$/, '');
      if (redisPassword === '') problems.push(`REDIS_PASSWORD_FILE names an empty file: ${passwordFile}`);
    }
  }
  if (caFile !== undefined) {
    if (!redisUrl.startsWith('rediss://')) {
      problems.push('REDIS_TLS_CA_FILE is set but REDIS_URL does not start with rediss:// (the CA is only used for TLS)');
    }
    redisTlsCa = readText('REDIS_TLS_CA_FILE', caFile, problems);
    if (redisTlsCa !== undefined && !redisTlsCa.includes('-----BEGIN CERTIFICATE-----')) {
      problems.push(`REDIS_TLS_CA_FILE names a file without a PEM certificate (-----BEGIN CERTIFICATE-----): ${caFile}`);
    }
  }
  return {
    secrets: { ...(redisPassword ? { redisPassword } : {}), ...(redisTlsCa !== undefined ? { redisTlsCa } : {}) },
    problems,
  };
}

function readText(variable: string, path: string, problems: string[]): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    problems.push(`${variable} names a file that cannot be read: ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    return undefined;
  }
}
