/**
 * Public pages throughput (issue: public site): the founders page and a directory page with
 * 64 keep-alive connections, beside bare express answering JSON in the same run (both servers up,
 * rounds interleaved, medians compared). Target ≥ 0.5×.
 */
import {
  agentFor,
  requestJson,
  requestPage,
  startBareExpress,
  startSeededApp,
  throughput,
} from './http';
import { printFigures, type Figure } from './lib';

const CONNECTIONS = 64;

/** Rounds of each measurement, interleaved so that drift of a shared machine hits all alike. */
const ROUNDS = 3;
const ROUND_MS = 2500;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function benchSite(): Promise<Figure[]> {
  const agent = agentFor(CONNECTIONS);
  const bare = await startBareExpress();
  const app = await startSeededApp(120);
  try {
    const pages = [
      ['founders page /founders', '/founders'],
      ['directory page /directory?province=44&page=1', '/directory?province=44&page=1'],
    ] as const;
    const bad = new Map<string, number>();
    /** Pages are fetched as a browser does (gzip accepted, body decoded); the baseline's JSON is not compressed. */
    const run = (url: string, page: boolean) =>
      throughput(CONNECTIONS, ROUND_MS, async () => {
        const r = page ? await requestPage(agent, url) : await requestJson(agent, url, 'GET');
        if (page && r.status !== 200) bad.set(url, (bad.get(url) ?? 0) + 1);
      });
    // Warm up both servers (JIT, caches, memoised pages).
    await run(`${bare.url}/ping`, false);
    for (const [, path] of pages) await run(`${app.url}${path}`, true);
    const bareRps: number[] = [];
    const pageRps = pages.map(() => [] as number[]);
    for (let round = 0; round < ROUNDS; round++) {
      bareRps.push(await run(`${bare.url}/ping`, false));
      for (const [i, [, path]] of pages.entries())
        pageRps[i].push(await run(`${app.url}${path}`, true));
    }
    const baseline = median(bareRps);
    return pages.map(([name, path], i) => {
      const rps = median(pageRps[i]);
      const failures = bad.get(`${app.url}${path}`) ?? 0;
      return {
        name: `${name} (${CONNECTIONS} connections, median of ${ROUNDS} interleaved rounds${failures ? `, ${failures} non-200` : ''})`,
        value: rps,
        unit: 'req/s',
        baselineName: 'bare express GET req/s (median, same rounds)',
        baseline,
        target: '≥ 0.5× bare express',
        met: rps >= 0.5 * baseline && failures === 0,
      };
    });
  } finally {
    await app.stop();
    await bare.stop();
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
