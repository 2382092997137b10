/**
 * `npm run bench [-- suite ...]`: runs the benchmarks and prints each figure beside a baseline
 * measured in the same run. Benchmarks are never part of `npm test`: shared machines are noisy.
 */
import { printFigures, type Figure } from './lib';
import { benchEmbeddedMongo } from './embedded-mongo';
import { benchStoreStalls } from './store-stalls';
import { benchExports } from './exports';
import { benchSigning } from './signing';
import { benchCertificateFigures } from './certificates';
import { benchVerification } from './verification';
import { benchSite } from './site';
import { benchTlog } from './tlog';
import { benchTransparencyLog } from './transparency-log';

const SUITES: Record<string, { title: string; run: () => Promise<Figure[]> }> = {
  store: { title: 'embedded store', run: benchEmbeddedMongo },
  'store-stalls': { title: 'embedded store event-loop stalls', run: benchStoreStalls },
  signing: { title: 'signing (sign + confirm + activate)', run: benchSigning },
  exports: {
    title: 'exports (CSV of 1,000,000 signatories, XLSX and PDF of 100,000)',
    run: benchExports,
  },
  certificates: {
    title: 'certificate pipeline (render + QR + JWS + PAdES)',
    run: benchCertificateFigures,
  },
  verification: { title: 'certificate verification API', run: benchVerification },
  site: { title: 'public pages', run: benchSite },
  tlog: { title: 'transparency log core (in memory, 1,000,000 entries)', run: benchTlog },
  log: {
    title: 'transparency log on the durable embedded store (sequencer, checkpoint age)',
    run: benchTransparencyLog,
  },
};

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const names = wanted.length ? wanted : Object.keys(SUITES);
  for (const name of names) {
    const suite = SUITES[name];
    if (!suite)
      throw new Error(`unknown suite '${name}'; known: ${Object.keys(SUITES).join(', ')}`);
    const started = Date.now();
    const figures = await suite.run();
    printFigures(`${suite.title} (${((Date.now() - started) / 1000).toFixed(0)} s)`, figures);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
