// Shared fixtures for the certificate tests: sample data, one dev P12 and
// signing key per process, and wrappers for the Debian PDF tools.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  PdfSigner,
  createDevP12,
  decodeJws,
  generateSigningKey,
  makeSerial,
  type CertificateData,
  type DevP12,
  type IssueOptions,
  type SigningKey,
} from '../../certificates';
import {
  ed25519Signer,
  encodeEntry,
  formatVerifierKey,
  inclusionProof,
  leafHash,
  MemoryHashReader,
  originFromPublicUrl,
  rootFromLeafHashes,
  signCheckpoint,
} from '../../src/tlog';

export const PUBLIC_URL = 'https://eqi.example.org';
export const RARE = '喆堃犇垚昇玥珺';

export function sampleData(over: Partial<CertificateData> = {}, seq = 123): CertificateData {
  return {
    serial: makeSerial(2026, seq),
    company: {
      name: `厦门${RARE}科技有限公司`,
      nameEn: 'Xiamen Zhekun Technology Co., Ltd.',
      uscc: '91350100M000100Y43',
      province: { zh: '福建', en: 'Fujian' },
      industry: { zh: '制造业', en: 'Manufacturing' },
    },
    signatory: { name: '王喆', title: { zh: '总经理', en: 'General Manager' } },
    initiative: {
      title: { zh: '企业质量诚信倡议书', en: 'Enterprise Quality Integrity Initiative' },
      version: '1.0',
      sha256: '3f2a9c01d4e5b6a7980102030405060708090a0b0c0d0e0f1011121314151617',
    },
    activatedAt: '2026-03-05T02:00:00.000Z',
    issuedAt: '2026-03-05T02:00:00.000Z',
    foundingNumber: 7,
    ...over,
  };
}

let ctx: { signingKey: SigningKey; p12Signer: PdfSigner; dev: DevP12 } | undefined;

/** One signing key and one dev P12 per test process (P12 creation takes ~0.3 s). */
export function issuer(): IssueOptions & { dev: DevP12 } {
  if (!ctx) {
    const dev = createDevP12();
    ctx = {
      signingKey: generateSigningKey(),
      p12Signer: PdfSigner.fromP12(dev.p12, dev.passphrase),
      dev,
    };
  }
  return { ...ctx, publicUrl: PUBLIC_URL };
}

const toolCache = new Map<string, boolean>();

export function hasTool(cmd: string): boolean {
  let ok = toolCache.get(cmd);
  if (ok === undefined) {
    ok = spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
    toolCache.set(cmd, ok);
  }
  return ok;
}

/** Skips the current test (with the reason printed) when a Debian tool is missing. CI installs them. */
export function needTool(t: Mocha.Context, cmd: string, pkg: string): void {
  if (!hasTool(cmd)) {
    console.warn(`      skipped: ${cmd} is not installed (apt-get install ${pkg})`);
    t.skip();
  }
}

export function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'eqi-cert-'));
}

export function writeTmp(dir: string, name: string, bytes: Uint8Array): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, bytes);
  return p;
}

/** Runs a tool, returning stdout+stderr and the exit status (tools like pdfsig exit non-zero on bad signatures). */
export function run(cmd: string, args: string[]): { stdout: string; out: string; status: number } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 20_000 });
  return {
    stdout: r.stdout ?? '',
    out: `${r.stdout ?? ''}${r.stderr ?? ''}`,
    status: r.status ?? -1,
  };
}

export function runOk(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', timeout: 20_000 });
}

/** Parses a binary PGM (P5, 8-bit) as written by `pdftoppm -gray`. */
export function readPgm(file: string): { width: number; height: number; px: Uint8Array } {
  const buf = fs.readFileSync(file);
  const fields: string[] = [];
  let p = 0;
  while (fields.length < 4) {
    while (p < buf.length && /\s/.test(String.fromCharCode(buf[p]!))) p++;
    if (buf[p] === 0x23) {
      while (buf[p] !== 0x0a) p++;
      continue;
    }
    let s = '';
    while (p < buf.length && !/\s/.test(String.fromCharCode(buf[p]!)))
      s += String.fromCharCode(buf[p++]!);
    fields.push(s);
  }
  p++; // single whitespace after maxval
  const [magic, w, h, max] = fields;
  if (magic !== 'P5' || max !== '255') throw new Error(`unexpected PGM header ${fields.join(' ')}`);
  const width = Number(w);
  const height = Number(h);
  return { width, height, px: buf.subarray(p, p + width * height) };
}

export const artifactsDir = path.resolve(__dirname, '../../test-artifacts');

/**
 * A transparency log held in memory, signed with `key` as the registry signs its own (origin =
 * PUBLIC_URL without scheme + "/log"): `logProof` is IssueOptions.logProof, appending the
 * certificate.issued entry of each credential and returning its proof bundle against a fresh
 * checkpoint, as the registry's log does.
 */
export function memoryLog(key: SigningKey, publicUrl = PUBLIC_URL) {
  const origin = originFromPublicUrl(publicUrl);
  const signer = ed25519Signer(origin, key.privateKey);
  const leaves: Buffer[] = [];
  const checkpoints: string[] = [];
  return {
    vkey: formatVerifierKey(origin, key.privateKey),
    checkpoints,
    leaves,
    async logProof(jws: string) {
      const payload = decodeJws(jws).payload as {
        serialNumber: string;
        validFrom: string;
        credentialSubject: { uscc: string };
      };
      const credentialSha256 = createHash('sha256').update(jws).digest('hex');
      const entry = encodeEntry({
        v: 1,
        type: 'certificate.issued',
        at: payload.validFrom,
        uscc: payload.credentialSubject.uscc,
        serial: payload.serialNumber,
        credentialSha256,
      });
      const leafIndex = leaves.length;
      leaves.push(leafHash(entry));
      const reader = new MemoryHashReader(leaves);
      const checkpoint = signCheckpoint(
        { origin, size: leaves.length, rootHash: rootFromLeafHashes(leaves) },
        [signer],
      );
      checkpoints.push(checkpoint);
      const proof = await inclusionProof(leafIndex, leaves.length, reader);
      return {
        leafIndex,
        entry: entry.toString('base64'),
        inclusionProof: proof.map((p) => p.toString('base64')),
        checkpoint,
      };
    },
  };
}
