// Certificate pipeline benchmark: render + QR + JWS + PAdES per certificate on
// one core (a sequential loop in one process), beside a pdf-lib blank-page
// baseline measured in the same run.
//
//   npx tsx bench/certificates.ts            (or via bench/run.ts)
//   CERT_BENCH_N=1000 npx tsx bench/certificates.ts
import os from 'node:os';
import { PDFDocument } from 'pdf-lib';
import type { Figure } from './lib';
import {
  PdfSigner,
  createDevP12,
  generateSigningKey,
  issueCertificatePdf,
  loadSubsetEngine,
  makeSerial,
  renderCertificate,
  type CertificateData,
} from '../certificates';

const TARGET_PER_SEC = 150;
const ratio = (a: number, b: number) => Math.round((a / b) * 1000) / 1000;

// Varied names so every certificate needs its own font subset (no cache can hide the work).
const POOL =
  '喆堃犇垚昇玥珺鑫淼焱森晶磊琪瑞璟骐骥龙凤华鼎盛恒泰宏远顺达嘉禾锦程浩瀚蓝海天宇星辰博雅信诚德润';
const PROVINCES: Array<[string, string]> = [
  ['北京', 'Beijing'],
  ['广东', 'Guangdong'],
  ['四川', 'Sichuan'],
  ['内蒙古', 'Inner Mongolia'],
  ['新疆', 'Xinjiang'],
];
const INDUSTRIES: Array<[string, string]> = [
  ['制造业', 'Manufacturing'],
  ['信息传输、软件和信息技术服务业', 'IT and software'],
  ['批发和零售业', 'Wholesale and retail'],
  ['建筑业', 'Construction'],
];

function sample(i: number): CertificateData {
  let rnd = (i * 2654435761) >>> 0;
  const pick = () => {
    rnd = (rnd * 1103515245 + 12345) >>> 0;
    return POOL[rnd % POOL.length]!;
  };
  const [pz, pe] = PROVINCES[i % PROVINCES.length]!;
  const [iz, ie] = INDUSTRIES[i % INDUSTRIES.length]!;
  return {
    serial: makeSerial(2026, (i % 999_999) + 1),
    company: {
      name: `${pz}${pick()}${pick()}${pick()}${pick()}科技有限公司`,
      nameEn: `${pe} Example Technology Co., Ltd. No. ${i}`,
      uscc: '91350100M000100Y43',
      province: { zh: pz, en: pe },
      industry: { zh: iz, en: ie },
    },
    signatory: { name: `王${pick()}${pick()}`, title: { zh: '总经理', en: 'General Manager' } },
    initiative: {
      title: { zh: '企业质量诚信倡议书', en: 'Enterprise Quality Integrity Initiative' },
      version: '1.0',
      sha256: 'c0ffee'.padEnd(64, '0'),
    },
    activatedAt: new Date(Date.UTC(2026, 2, 5, 2)),
    issuedAt: new Date(Date.UTC(2026, 2, 5, 2, 0, i % 60)),
    foundingNumber: i % 3 === 0 ? (i % 100) + 1 : null,
  };
}

interface Series {
  /** wall clock */
  perSec: number;
  /** per second of process CPU time: capacity of one core, robust to other load on the machine */
  perCpuSec: number;
  medianMs: number;
  p95Ms: number;
  kb: number;
}

async function measure(n: number, fn: (i: number) => Promise<Uint8Array>): Promise<Series> {
  const times: number[] = [];
  let bytes = 0;
  const start = performance.now();
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const out = await fn(i);
    times.push(performance.now() - t);
    bytes += out.length;
  }
  const total = performance.now() - start;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  times.sort((a, b) => a - b);
  const r = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;
  return {
    perSec: r((n * 1000) / total, 1),
    perCpuSec: r((n * 1000) / cpuMs, 1),
    medianMs: r(times[Math.floor(n / 2)]!),
    p95Ms: r(times[Math.min(n - 1, Math.floor(n * 0.95))]!),
    kb: r(bytes / n / 1024, 1),
  };
}

export async function benchCertificates(
  opts: { n?: number } = {},
): Promise<Record<string, number | string>> {
  const n = opts.n ?? Number(process.env.CERT_BENCH_N ?? 400);
  const setup = performance.now();
  await loadSubsetEngine();
  const dev = createDevP12();
  const p12Signer = PdfSigner.fromP12(dev.p12, dev.passphrase);
  const signingKey = generateSigningKey();
  const issue = { signingKey, p12Signer, publicUrl: 'https://eqi.example.org' };
  const setupMs = performance.now() - setup;

  const blank = async () => {
    const d = await PDFDocument.create();
    d.addPage([841.89, 595.28]);
    return d.save();
  };
  // Warm up JIT, font engine and the static layer before timing.
  for (let i = 0; i < 40; i++) {
    await blank();
    await issueCertificatePdf(sample(1_000_000 + i), issue);
  }

  const baseline = await measure(n, blank);
  // Same page saved without pdf-lib's setTimeout yields, as the pipeline does.
  const baselineNoYield = await measure(n, async () => {
    const d = await PDFDocument.create();
    d.addPage([841.89, 595.28]);
    return d.save({ objectsPerTick: Infinity });
  });
  const render = await measure(n, (i) =>
    renderCertificate(sample(i), {
      publicUrl: issue.publicUrl,
      keyFingerprint: signingKey.fingerprint,
    }),
  );
  const pipeline = await measure(n, (i) => issueCertificatePdf(sample(i), issue));

  return {
    n,
    'setup.ms (font engine + dev P12, once)': Math.round(setupMs),
    'baseline.blankPage.perSec': baseline.perSec,
    'baseline.blankPage.perCpuSec': baseline.perCpuSec,
    'baseline.blankPage.medianMs': baseline.medianMs,
    'baseline.blankPage.p95Ms': baseline.p95Ms,
    'baseline.blankPage.kb': baseline.kb,
    'baseline.blankPageNoYield.perSec': baselineNoYield.perSec,
    'baseline.blankPageNoYield.medianMs': baselineNoYield.medianMs,
    'render.perSec': render.perSec,
    'render.medianMs': render.medianMs,
    'render.p95Ms': render.p95Ms,
    'pipeline.certsPerSec': pipeline.perSec,
    'pipeline.certsPerCpuSec': pipeline.perCpuSec,
    'pipeline.medianMs': pipeline.medianMs,
    'pipeline.p95Ms': pipeline.p95Ms,
    'pipeline.kbPerCert': pipeline.kb,
    'ratio.pipeline/baseline (throughput)': ratio(pipeline.perSec, baseline.perSec),
    'ratio.pipeline/baselineNoYield (throughput)': ratio(pipeline.perSec, baselineNoYield.perSec),
    'ratio.pipeline/baseline (median ms)': ratio(pipeline.medianMs, baseline.medianMs),
    'target.certsPerSec': TARGET_PER_SEC,
    // Judged on CPU time: "per core" capacity, not how busy the shared machine happened to be.
    'target.met': pipeline.perCpuSec >= TARGET_PER_SEC ? 'yes' : 'no',
    'machine.loadavg1m': Math.round(os.loadavg()[0]! * 100) / 100,
    'machine.cpus': os.cpus().length,
  };
}

/** The same run as Figure[] for bench/run.ts (`SUITES.certificates = { title, run: benchCertificateFigures }`). */
export async function benchCertificateFigures(): Promise<Figure[]> {
  const r = await benchCertificates();
  const n = (k: string) => Number(r[k]);
  const perCpuSec = n('pipeline.certsPerCpuSec');
  return [
    {
      name: 'certificates per CPU-second, one core (render + QR + JWS + PAdES)',
      value: perCpuSec,
      unit: '/s',
      baselineName: 'pdf-lib blank page',
      baseline: n('baseline.blankPage.perCpuSec'),
      target: `>= ${TARGET_PER_SEC}/s`,
      met: perCpuSec >= TARGET_PER_SEC,
    },
    {
      name: 'certificates/s wall clock',
      value: n('pipeline.certsPerSec'),
      unit: '/s',
      baselineName: 'pdf-lib blank page',
      baseline: n('baseline.blankPage.perSec'),
    },
    {
      name: 'certificate median',
      value: n('pipeline.medianMs'),
      unit: 'ms',
      baselineName: 'blank page',
      baseline: n('baseline.blankPage.medianMs'),
    },
    {
      name: 'certificate p95',
      value: n('pipeline.p95Ms'),
      unit: 'ms',
      baselineName: 'blank page',
      baseline: n('baseline.blankPage.p95Ms'),
    },
    {
      name: 'certificate size',
      value: n('pipeline.kbPerCert'),
      unit: 'KB',
      baselineName: 'blank page',
      baseline: n('baseline.blankPage.kb'),
    },
  ];
}

if (require.main === module) {
  benchCertificates()
    .then((r) => {
      for (const [k, v] of Object.entries(r)) console.log(`${k.padEnd(44)} ${v}`);
    })
    .catch((e: unknown) => {
      console.error(e);
      process.exitCode = 1;
    });
}
