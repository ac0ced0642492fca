import { Ajv, type ErrorObject } from 'ajv';

/** Environment as given to a process: every value a string or absent. */
export type Env = Readonly<Record<string, string | undefined>>;

/** An object schema whose properties are environment variable names. */
export interface EnvSchema {
  readonly type: 'object';
  readonly properties: Readonly<Record<string, object>>;
  readonly required?: readonly string[];
}

/** Raised when the environment does not satisfy the schema; one problem per variable. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

// Config is read once per process, so one instance suffices; coercion turns "50" into 50.
const ajv = new Ajv({ coerceTypes: true, useDefaults: true, allErrors: true, strict: true });

/**
 * Validates the variables named in `schema` (defaults applied, strings coerced) and maps them to
 * a frozen typed object. Empty strings count as unset. Throws ConfigError naming every bad variable.
 */
export function loadConfig<T extends object>(
  schema: EnvSchema,
  env: Env,
  toConfig: (values: Record<string, unknown>) => T,
  crossChecks: (config: T) => string[] = () => [],
): Readonly<T> {
  const values: Record<string, unknown> = {};
  for (const name of Object.keys(schema.properties)) {
    const raw = env[name];
    if (raw !== undefined && raw.trim() !== '') values[name] = raw.trim();
  }
  const validate = ajv.compile({ ...schema, additionalProperties: false });
  const given = { ...values };
  if (!validate(values)) {
    throw new ConfigError((validate.errors ?? []).map((e) => describe(e, given, schema)));
  }
  const config = toConfig(values);
  const problems = crossChecks(config);
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config);
}

/**
 * One problem line. The given value is shown to help fix it, except where it may be a secret: a
 * variable whose schema says `writeOnly: true` (tokens) is never echoed, and a URL's password is
 * masked (REDIS_URL may carry one). The message goes to stderr, which ends up in log stores.
 */
function describe(error: ErrorObject, given: Record<string, unknown>, schema: EnvSchema): string {
  const name =
    error.instancePath.replace(/^\//, '') ||
    (error.params as { missingProperty?: string }).missingProperty ||
    '(environment)';
  const value = given[name];
  const secret = (schema.properties[name] as { writeOnly?: boolean } | undefined)?.writeOnly === true;
  const shown = value === undefined || secret ? '' : ` (got ${JSON.stringify(maskUrlPassword(String(value)))})`;
  return `${name} ${error.message ?? 'is invalid'}${shown}`;
}

/** `redis://user:secret@host` → `redis://user:***@host`; anything else unchanged. */
export function maskUrlPassword(text: string): string {
  return text.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/?#@:]*:)[^/?#]*@/i, '$1***@');
}

/** Prints a ConfigError to stderr and exits 1; rethrows anything else. For entry points. */
export function exitOnConfigError(error: unknown, service: string): never {
  if (error instanceof ConfigError) {
    process.stderr.write(`${service}: ${error.message}\n`);
    process.exit(1);
  }
  throw error;
}
