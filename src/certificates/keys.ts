/**
 * The registry's signing keys: the Ed25519 key that signs credentials and manifests, and the
 * P12 bundle behind the PAdES signature. Production reads them from SIGNING_KEY / SIGNING_P12
 * (config refuses to start without them); development generates them once under
 * $DATA_DIR/keys and says so loudly. Every key ever used stays published in the JWKS
 * (kept in the database so all instances list the same keys), so old certificates keep verifying.
 */
import fs from 'node:fs';
import path from 'node:path';
import mongoose from 'mongoose';
import {
  createDevP12,
  exportSigningKeyPem,
  generateSigningKey,
  loadSigningKey,
  PdfSigner,
  type Ed25519Jwk,
  type SigningKey,
} from '../../certificates';
import { readSecret, type Config } from '../config';
import { isDuplicateKey } from '../db/errors';
import type { Logger } from '../logger';

export interface KeyRing {
  signingKey: SigningKey;
  pdfSigner: PdfSigner;
  /**
   * True when either key is a generated development one: its certificates carry a SAMPLE
   * watermark and a developmentKey claim, and verifying them says "development certificate".
   */
  isDevelopment: boolean;
  /** Records the current key among the published ones (once the database is connected). */
  publish(): Promise<void>;
  /** All published public keys (current and retired). */
  jwks(): Promise<{ keys: Ed25519Jwk[] }>;
}

interface StoredKey {
  _id: string;
  jwk: Ed25519Jwk;
  firstUsedAt: Date;
}

const keysCollection = () => mongoose.connection.db!.collection<StoredKey>('signing_keys');

function devFile(
  dir: string,
  name: string,
  make: () => Buffer | string,
  logger: Logger,
  what: string,
): Buffer {
  const file = path.join(dir, name);
  if (fs.existsSync(file)) return fs.readFileSync(file);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const content = make();
  fs.writeFileSync(file, content, { mode: 0o600 });
  logger.warn(
    { file },
    `DEVELOPMENT ${what} GENERATED: certificates signed with it are not trustworthy; production must set it explicitly`,
  );
  return Buffer.from(content);
}

export function loadKeyMaterial(
  config: Config,
  logger: Logger,
): { signingKey: SigningKey; pdfSigner: PdfSigner; isDevelopment: boolean } {
  const dir = path.join(config.dataDir, 'keys');
  const keyPem = config.signing.key
    ? readSecret(config.signing.key)
    : devFile(
        dir,
        'signing-key.pem',
        () => exportSigningKeyPem(generateSigningKey()),
        logger,
        'SIGNING KEY',
      );
  const signingKey = loadSigningKey(keyPem);
  let p12: Buffer;
  let passphrase: string;
  if (config.signing.p12) {
    p12 = readSecret(config.signing.p12);
    passphrase = config.signing.p12Password ?? '';
  } else {
    const dev = createDevP12Cached(dir, logger);
    p12 = dev.p12;
    passphrase = dev.passphrase;
  }
  const isDevelopment = !config.signing.key || !config.signing.p12;
  return { signingKey, pdfSigner: PdfSigner.fromP12(p12, passphrase), isDevelopment };
}

function createDevP12Cached(dir: string, logger: Logger): { p12: Buffer; passphrase: string } {
  let passphrase = 'dev';
  const p12 = devFile(
    dir,
    'pdf-signing.p12',
    () => {
      const dev = createDevP12({ commonName: 'EQI Registry (development)', passphrase });
      passphrase = dev.passphrase;
      return Buffer.from(dev.p12);
    },
    logger,
    'PDF SIGNING CERTIFICATE (self-signed)',
  );
  return { p12, passphrase };
}

export function createKeyRing(config: Config, logger: Logger): KeyRing {
  const { signingKey, pdfSigner, isDevelopment } = loadKeyMaterial(config, logger);
  return {
    signingKey,
    pdfSigner,
    isDevelopment,
    async publish() {
      await keysCollection()
        .updateOne(
          { _id: signingKey.kid },
          { $setOnInsert: { jwk: signingKey.publicJwk, firstUsedAt: new Date() } },
          { upsert: true },
        )
        .catch((e) => {
          // Published concurrently by another instance starting with the same key.
          if (!isDuplicateKey(e)) throw e;
        });
    },
    async jwks() {
      const stored = await keysCollection().find({}).sort({ firstUsedAt: -1 }).toArray();
      const keys = stored.map((k) => k.jwk);
      if (!keys.some((k) => k.kid === signingKey.kid)) keys.unshift(signingKey.publicJwk);
      return { keys };
    },
  };
}
