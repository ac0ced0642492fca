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
      start: async () => ({ ...(await api.start()), redis: redactUrl(config.redisUrl), maxBacklog: config.maxBacklog }),
      stop: () => api.stop(),
    };
  },
});
