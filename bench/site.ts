/**
 * Public pages throughput (issue: public site): the founders page and a directory page with
 * 64 keep-alive connections, beside bare express answering JSON in the same run. Target ≥ 0.5×.
 */
import { agentFor, requestJson, startBareExpress, startSeededApp, throughput } from './http';
import { printFigures, type Figure } from './lib';

const CONNECTIONS = 64;

export async function benchSite(): Promise<Figure[]> {
  const agent = agentFor(CONNECTIONS);
  const bare = await startBareExpress();
  const bareRps = await throughput(CONNECTIONS, 4000, () => requestJson(agent, `${bare.url}/ping`, 'GET'));
  await bare.stop();
  const app = await startSeededApp(120);
  try {
    const figures: Figure[] = [];
    for (const [name, url] of [
      ['founders page /founders', '/founders'],
      ['directory page /directory?province=44&page=1', '/directory?province=44&page=1'],
    ] as const) {
      let bad = 0;
      await throughput(CONNECTIONS, 1000, () => requestJson(agent, `${app.url}${url}`, 'GET')); // warm up
      const rps = await throughput(CONNECTIONS, 5000, async () => {
        const r = await requestJson(agent, `${app.url}${url}`, 'GET');
        if (r.status !== 200) bad++;
      });
      figures.push({ name: `${name} (${CONNECTIONS} connections${bad ? `, ${bad} non-200` : ''})`, value: rps, unit: 'req/s', baselineName: 'bare express GET req/s', baseline: bareRps, target: '≥ 0.5× bare express', met: rps >= 0.5 * bareRps && bad === 0 });
    }
    return figures;
  } finally {
    await app.stop();
    agent.destroy();
  }
}

if (require.main === module) {
  benchSite().then(
    (f) => printFigures('public pages', f),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
