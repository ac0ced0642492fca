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
    serializers: { err: serializeError },
  };
  return destination ? pino(settings, destination) : pino(settings);
}

/** Arguments of a failed Redis command kept in its logged error, and characters kept of each. */
export const LOGGED_COMMAND_ARGS = 6;
export const LOGGED_ARG_CHARS = 80;
/** Commands whose arguments are credentials. */
const SECRET_COMMANDS = new Set(['auth', 'hello', 'migrate']);

/**
 * pino's error serializer, with the failed command that ioredis attaches to every reply error
 * (`err.command`, every argument) cut down to its name, its argument count and the first few
 * arguments, shortened: a failed batch commit or append carries thousands of arguments (~100 KB),
 * and would otherwise be written whole at every retry, in the middle of an incident. Credentials
 * (AUTH, HELLO … AUTH, MIGRATE … AUTH) are never written.
 */
export function serializeError(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const serialized = pino.stdSerializers.err(err) as unknown as Record<string, unknown>;
  const command = serialized['command'];
  if (isCommand(command)) serialized['command'] = summarizeCommand(command);
  return serialized;
}

interface FailedCommand {
  name: string;
  args: unknown[];
}

function isCommand(value: unknown): value is FailedCommand {
  return typeof value === 'object' && value !== null && typeof (value as FailedCommand).name === 'string' && Array.isArray((value as FailedCommand).args);
}

function summarizeCommand({ name, args }: FailedCommand): { name: string; argCount: number; args: string[] } {
  const shown = SECRET_COMMANDS.has(name.toLowerCase()) ? [] : args.slice(0, LOGGED_COMMAND_ARGS).map(argText);
  if (shown.length < args.length) shown.push(`… ${args.length - shown.length} more`);
  return { name, argCount: args.length, args: shown };
}

function argText(arg: unknown): string {
  const text = Buffer.isBuffer(arg) ? `<${arg.length} bytes>` : String(arg);
  return text.length > LOGGED_ARG_CHARS ? `${text.slice(0, LOGGED_ARG_CHARS)}… (${text.length} chars)` : text;
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
