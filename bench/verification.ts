/**
 * Verification API throughput (issue: certificates): GET /api/v1/certificates/<serial> with 64
 * keep-alive connections, beside bare express answering JSON in the same run. Target ≥ 0.6×.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { spawnEmbeddedMongo } from '../src/embedded-mongo/spawn';
import { agentFor, requestJson, runToCompletion, startBareExpress, startChild, throughput } from './http';
import { printFigures, type Figure } from './lib';

const CONNECTIONS = 64;

export async function benchVerification(): Promise<Figure[]> {
  const agent = agentFor(CONNECTIONS);
  const bare = await startBareExpress();
  const bareRps = await throughput(CONNECTIONS, 4000, () => requestJson(agent, `${bare.url}/ping`, 'GET'));
  await bare.stop();

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-verify-'));
  const store = await spawnEmbeddedMongo({ memory: true });
  const env = { NODE_ENV: 'test', PORT: '0', LOG_LEVEL: 'warn', DATA_DIR: dir, MONGODB_URI: `${store.uri}/bench` };
  // Seed 120 activated pledges with a separate process, then let the app issue their certificates.
  await runToCompletion(['--import', 'tsx', path.join(__dirname, '..', 'scripts', 'seed.ts')], env);
  const app = await startChild(['--import', 'tsx', path.join(__dirname, '..', 'src', 'server.ts')], { ...env, LOG_LEVEL: 'info' });
  try {
    const client = await MongoClient.connect(store.uri);
    const certs = client.db('bench').collection('certificates');
    const deadline = Date.now() + 120_000;
    while ((await certs.countDocuments()) < 120 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    const serials = (await certs.find({}, { projection: { serial: 1 } }).toArray()).map((c) => c.serial as string);
    await client.close();
    if (serials.length < 120) throw new Error(`only ${serials.length} certificates were issued`);
    let i = 0;
    let bad = 0;
    const rps = await throughput(CONNECTIONS, 6000, async () => {
      const r = await requestJson(agent, `${app.url}/api/v1/certificates/${serials[i++ % serials.length]}`, 'GET');
      if (r.status !== 200) bad++;
    });
    return [
      { name: `verification API GET /api/v1/certificates/<serial> (${CONNECTIONS} connections)`, value: rps, unit: 'req/s', baselineName: 'bare express GET req/s', baseline: bareRps, target: '≥ 0.6× bare express', met: rps >= 0.6 * bareRps },
      { name: 'non-200 answers', value: bad, unit: '' },
    ];
  } finally {
    await app.stop();
    await store.stop();
    agent.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  benchVerification().then(
    (f) => printFigures('certificate verification API', f),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
