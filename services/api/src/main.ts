import { runService } from '@pipeline/lifecycle';
import { redactUrl } from '@pipeline/logger';
import { createApiServer } from './api-server.js';
import { loadApiConfig } from './config.js';

runService({
  name: 'api',
  loadConfig: () => loadApiConfig(process.env),
  create: (config, log) => {
    const api = createApiServer(config, log);
    return {
      start: async () => ({
        ...(await api.start()),
        redis: redactUrl(config.redisUrl),
        maxBacklog: config.maxBacklog,
        // How many tokens each scope has, never the tokens: 0 means the routes are open.
        tokens: { ingest: config.ingestTokens.length, read: config.readTokens.length },
      }),
      stop: () => api.stop(),
    };
  },
});
