/**
 * Signing throughput (issue: signing core): 64 concurrent clients each sign, read the
 * confirmation link from a real SMTP server, and confirm; with REVIEW_MODE=auto that activates
 * the pledge. Reported beside bare express (same machine, same run). Zero lost is checked.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { makeUscc } from '../src/domain/uscc';
import { spawnEmbeddedMongo } from '../src/embedded-mongo/spawn';
import { startTestSmtp, tokenFromMail } from '../test/helpers/smtp';
import { agentFor, requestJson, startBareExpress, startChild, throughput } from './http';
import { printFigures, type Figure } from './lib';

const CLIENTS = 64;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);

export async function benchSigning(): Promise<Figure[]> {
  const agent = agentFor(CLIENTS);
  const bare = await startBareExpress();
  const bareRps = await throughput(CLIENTS, 3000, () => requestJson(agent, `${bare.url}/echo`, 'POST', { a: 1 }));
  await bare.stop();

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-sign-'));
  const store = await spawnEmbeddedMongo({ dataDir: path.join(dir, 'db') });
  const smtp = await startTestSmtp();
  const app = await startChild(['--require', 'tsx/cjs', path.join(__dirname, '..', 'src', 'server.ts')], {
    NODE_ENV: 'test',
    PORT: '0',
    LOG_LEVEL: 'info',
    DATA_DIR: dir,
    MONGODB_URI: `${store.uri}/bench`,
    SMTP_URL: smtp.url,
    REVIEW_MODE: 'auto',
    RATE_LIMIT_SIGNING_PER_MIN: '100000000',
    PUBLIC_URL: 'https://registry.bench',
  });
  try {
    const init = JSON.parse((await requestJson(agent, `${app.url}/api/v1/initiative`, 'GET')).body);
    let serial = 0;
    let failures = 0;
    const activated: string[] = [];
    const pending = new Map<string, (token: string) => void>();
    // Hand each confirmation link to the client waiting for it.
    const seen = new Set<unknown>();
    const poll = setInterval(() => {
      for (const m of smtp.received) {
        if (seen.has(m)) continue;
        seen.add(m);
        const waiter = pending.get(m.to[0]);
        if (waiter) waiter(tokenFromMail(m, '/confirm'));
      }
    }, 2);
    const started = Date.now();
    await throughput(CLIENTS, SECONDS * 1000, async () => {
      const n = serial++;
      const email = `bench${n}@example.com`;
      const body = {
        company: { uscc: makeUscc({ provinceCode: '11', serial: n }), name: `示例基准企业${n}有限公司`, industry: 'C' },
        signatory: { name: '王喆', title: '总经理', email },
        initiative: { version: init.version, sha256: init.sha256 },
        agree: true,
      };
      const tokenArrived = new Promise<string>((resolve) => pending.set(email, resolve));
      const signed = await requestJson(agent, `${app.url}/api/v1/pledges`, 'POST', body);
      if (signed.status !== 201) {
        failures++;
        return;
      }
      const token = await tokenArrived;
      pending.delete(email);
      const confirmed = await requestJson(agent, `${app.url}/api/v1/pledges/confirm`, 'POST', { token });
      if (confirmed.status === 200 && JSON.parse(confirmed.body).status === 'active') activated.push(email);
      else failures++;
    });
    const elapsed = (Date.now() - started) / 1000;
    clearInterval(poll);
    // Zero lost: every activation the clients saw is in the database, numbered 1..N without gaps.
    const client = await MongoClient.connect(store.uri);
    const seqs = (await client.db('bench').collection('pledges').find({ status: 'active' }, { projection: { sequence: 1 } }).toArray()).map((p) => p.sequence as number).sort((a, b) => a - b);
    await client.close();
    const gapless = seqs.length === activated.length && seqs.every((s, i) => s === i + 1);
    const rate = activated.length / elapsed;
    return [
      { name: `activated pledges/s (sign + e-mail link + confirm, REVIEW_MODE=auto, ${CLIENTS} clients, ${SECONDS} s)`, value: rate, unit: '/s', baselineName: 'bare express POST req/s', baseline: bareRps, target: '≥ 1,000/s', met: rate >= 1000 },
      { name: `pledges activated / lost / failed requests (sequences gapless: ${gapless ? 'yes' : 'NO'})`, value: activated.length, unit: `/ ${seqs.length - activated.length} / ${failures}` },
    ];
  } finally {
    await app.stop();
    await smtp.close();
    await store.stop();
    agent.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  benchSigning().then(
    (f) => printFigures('signing', f),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
