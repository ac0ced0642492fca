export { ConfigError, exitOnConfigError, loadConfig, type Env, type EnvSchema } from './load-config.js';
export { sharedEnv, toSharedConfig, type SharedConfig } from './env-schemas.js';
export type { RedisSecrets } from './redis-secrets.js';
