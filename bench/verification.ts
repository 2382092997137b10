/**
 * Verification API throughput (issues: certificates, #15): GET /api/v1/certificates/<serial> with
 * 64 keep-alive connections, beside bare express answering JSON in the same run. Target ≥ 0.8×.
 * The two are measured in turns (bare, app, bare, app, bare, app) and each side's median is
 * kept, so a burst of other work on a shared machine does not land on one side only.
 */
import { MongoClient } from 'mongodb';
import { agentFor, requestJson, startBareExpress, startSeededApp, throughput } from './http';
import { printFigures, type Figure } from './lib';

const CONNECTIONS = 64;
const ROUNDS = 3;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function benchVerification(): Promise<Figure[]> {
  const agent = agentFor(CONNECTIONS);
  const bare = await startBareExpress();
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
    const bareRuns: number[] = [];
    const appRuns: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      bareRuns.push(
        await throughput(CONNECTIONS, 3000, () => requestJson(agent, `${bare.url}/ping`, 'GET')),
      );
      appRuns.push(
        await throughput(CONNECTIONS, 3000, async () => {
          const r = await requestJson(
            agent,
            `${app.url}/api/v1/certificates/${serials[i++ % serials.length]}`,
            'GET',
          );
          if (r.status !== 200) bad++;
        }),
      );
    }
    const bareRps = median(bareRuns);
    const rps = median(appRuns);
    return [
      {
        name: `verification API GET /api/v1/certificates/<serial> (${CONNECTIONS} connections, median of ${ROUNDS} turns)`,
        value: rps,
        unit: 'req/s',
        baselineName: 'bare express GET req/s',
        baseline: bareRps,
        target: '≥ 0.8× bare express',
        met: rps >= 0.8 * bareRps,
      },
      { name: 'non-200 answers', value: bad, unit: '' },
    ];
  } finally {
    await bare.stop();
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
