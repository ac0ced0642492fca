import { hostname } from 'node:os';
import { pino, type DestinationStream, type Logger } from 'pino';

export type { DestinationStream, Logger };

/**
 * Paths never written to logs: credentials in request headers (bearer tokens), Redis URLs and
 * passwords, and the config fields holding tokens or secrets, should a config object be logged.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'redisUrl',
  '*.redisUrl',
  'password',
  '*.password',
  'redisPassword',
  '*.redisPassword',
  'ingestTokens',
  '*.ingestTokens',
  'readTokens',
  '*.readTokens',
];

/**
 * The root logger of one service: JSON lines on stdout (or `destination`, for tests that read
 * what would be logged), ISO times, credentials redacted.
 * Modules take `log.child({ module: '...' })` of the logger they are given; none makes its own.
 */
export function createLogger(options: { service: string; level: string }, destination?: DestinationStream): Logger {
  const settings = {
    name: options.service,
    level: options.level,
    base: { pid: process.pid, hostname: hostname() },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  };
  return destination ? pino(settings, destination) : pino(settings);
}

/** A logger that writes nothing, for tests that build services in-process. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** A Redis URL with any password replaced, safe to log. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable url)';
  }
}
