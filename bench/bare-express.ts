/** The bare-express baseline: the same kind of JSON answers with no database, as its own process. */
import type { AddressInfo } from 'node:net';
import express from 'express';

const app = express();
app.use(express.json());
app.get('/ping', (_req, res) => void res.json({ ok: true }));
app.post(
  '/echo',
  (req, res) =>
    void res
      .status(201)
      .json({ id: '0'.repeat(24), status: 'ok', n: Object.keys(req.body ?? {}).length }),
);
const server = app.listen(0, '127.0.0.1', () =>
  process.stdout.write(`LISTENING http://127.0.0.1:${(server.address() as AddressInfo).port}\n`),
);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
