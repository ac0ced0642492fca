// A bare Express 5 app: express.json() parses the body, the handler replies 202 and does no work.
// The floor of what the api's ingest would cost had it stayed on Express. Env: PORT.
import express from 'express';

const app = express();
app.use(express.json());
app.post('/ingest', (_req, res) => {
  res.status(202).json({ status: 'accepted' });
});
app.get('/health', (_req, res) => {
  res.sendStatus(200);
});

const server = app.listen(Number(process.env['PORT'] ?? 0), '127.0.0.1');
process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
});
