/**
 * Verification API throughput (issue: certificates): GET /api/v1/certificates/<serial> with 64
 * keep-alive connections, beside bare express answering JSON in the same run. Target ≥ 0.6×.
 */
import { MongoClient } from 'mongodb';
import { agentFor, requestJson, startBareExpress, startSeededApp, throughput } from './http';
import { printFigures, type Figure } from './lib';

const CONNECTIONS = 64;

export async function benchVerification(): Promise<Figure[]> {
  const agent = agentFor(CONNECTIONS);
  const bare = await startBareExpress();
  const bareRps = await throughput(CONNECTIONS, 4000, () =>
    requestJson(agent, `${bare.url}/ping`, 'GET'),
  );
  await bare.stop();
  const app = await startSeededApp(120);
  try {
    const client = await MongoClient.connect(app.storeUri);
    const serials = (
      await client
        .db('bench')
        .collection('certificates')
        .find({}, { projection: { serial: 1 } })
        .toArray()
    ).map((c) => c.serial as string);
    await client.close();
    if (serials.length < 120) throw new Error(`only ${serials.length} certificates were issued`);
    let i = 0;
    let bad = 0;
    const rps = await throughput(CONNECTIONS, 6000, async () => {
      const r = await requestJson(
        agent,
        `${app.url}/api/v1/certificates/${serials[i++ % serials.length]}`,
        'GET',
      );
      if (r.status !== 200) bad++;
    });
    return [
      {
        name: `verification API GET /api/v1/certificates/<serial> (${CONNECTIONS} connections)`,
        value: rps,
        unit: 'req/s',
        baselineName: 'bare express GET req/s',
        baseline: bareRps,
        target: '≥ 0.6× bare express',
        met: rps >= 0.6 * bareRps,
      },
      { name: 'non-200 answers', value: bad, unit: '' },
    ];
  } finally {
    await app.stop();
    agent.destroy();
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
