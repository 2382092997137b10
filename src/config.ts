/**
 * Configuration from environment variables, checked against a schema once at start-up.
 *
 * `ENV_VARS` is the single documented list (README's table is checked against it by a test);
 * `envSchema` has exactly the same keys (asserted below), so the two cannot drift.
 */
import { createPrivateKey, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { z } from 'zod';
import { DEFAULT_ASSOCIATION } from '../certificates/types';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface EnvVarDoc {
  readonly name: string;
  /** Default as shown in README, or null when there is none. */
  readonly default: string | null;
  readonly requiredInProduction: boolean;
  readonly description: string;
}

export const ENV_VARS: readonly EnvVarDoc[] = Object.freeze([
  {
    name: 'NODE_ENV',
    default: 'development',
    requiredInProduction: false,
    description: '`development`, `test` or `production`.',
  },
  {
    name: 'PORT',
    default: '3000',
    requiredInProduction: false,
    description: 'HTTP port to listen on (0 picks a free port).',
  },
  {
    name: 'PUBLIC_URL',
    default: 'http://localhost:$PORT',
    requiredInProduction: true,
    description: 'Public base URL of the site, used in e-mail links and certificate QR codes.',
  },
  {
    name: 'ASSOCIATION_NAME_ZH',
    default: DEFAULT_ASSOCIATION.zh,
    requiredInProduction: true,
    description:
      'The issuing association’s name in Chinese, printed on certificates (with its seal) and in their credentials. The default is fictional, for development only.',
  },
  {
    name: 'ASSOCIATION_NAME_EN',
    default: DEFAULT_ASSOCIATION.en,
    requiredInProduction: true,
    description:
      'The issuing association’s name in English (certificates and credentials). The default is fictional, for development only.',
  },
  {
    name: 'MONGODB_URI',
    default: null,
    requiredInProduction: false,
    description:
      'MongoDB connection string. Unset: the embedded store runs in-process on `$DATA_DIR/db`; in production only with `ALLOW_EMBEDDED_STORE=1`.',
  },
  {
    name: 'ALLOW_EMBEDDED_STORE',
    default: '0',
    requiredInProduction: false,
    description:
      '`1` lets production run on the embedded store (no `MONGODB_URI`); without it production refuses to start.',
  },
  {
    name: 'DATA_DIR',
    default: './data',
    requiredInProduction: false,
    description: 'Local data: embedded store files, dev mail outbox, dev keys.',
  },
  {
    name: 'LOG_LEVEL',
    default: 'info',
    requiredInProduction: false,
    description: '`fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`.',
  },
  {
    name: 'TRUST_PROXY',
    default: 'false',
    requiredInProduction: false,
    description:
      'Express `trust proxy`: `true`, `false`, a hop count, or comma-separated addresses/subnets (`loopback`, `10.0.0.0/8`). Set it behind a reverse proxy so client IPs (rate limits) are right.',
  },
  {
    name: 'JWT_SECRET',
    default: null,
    requiredInProduction: true,
    description:
      'Secret for signing session tokens, at least 32 characters. Outside production a random per-process secret is used (sessions end on restart).',
  },
  {
    name: 'SMTP_URL',
    default: null,
    requiredInProduction: true,
    description:
      'Outgoing mail server, e.g. `smtps://user:pass@host:465`. Unset outside production: mail is written as .eml files to a dev outbox under `$DATA_DIR`.',
  },
  {
    name: 'REVIEW_MODE',
    default: 'manual',
    requiredInProduction: false,
    description:
      '`manual` (an admin approves each pledge) or `auto` (confirmed pledges become active).',
  },
  {
    name: 'RATE_LIMIT_SIGNING_PER_MIN',
    default: '10',
    requiredInProduction: false,
    description: 'Signing requests allowed per client IP per minute.',
  },
  {
    name: 'RATE_LIMIT_SIGNING_PER_CODE_PER_DAY',
    default: '5',
    requiredInProduction: false,
    description: 'Signing attempts allowed per USCC per day (China time), from any address.',
  },
  {
    name: 'RATE_LIMIT_SIGNING_PER_DOMAIN_PER_DAY',
    default: '100',
    requiredInProduction: false,
    description:
      'Signing attempts allowed per signatory e-mail domain per day (China time); for free-mail domains (qq.com, 163.com, gmail.com …) per address instead.',
  },
  {
    name: 'RATE_LIMIT_LOGIN_PER_MIN',
    default: '10',
    requiredInProduction: false,
    description: 'Login and login-link requests allowed per client IP per minute.',
  },
  {
    name: 'RATE_LIMIT_VERIFY_PER_MIN',
    default: '30',
    requiredInProduction: false,
    description:
      'Certificate PDF uploads to verify (API and site) allowed per client IP per minute.',
  },
  {
    name: 'SIGNING_KEY',
    default: null,
    requiredInProduction: true,
    description:
      'Private key (PEM text or a path to a PEM file) that signs certificate credentials. Outside production a dev key is generated under `$DATA_DIR`.',
  },
  {
    name: 'SIGNING_P12',
    default: null,
    requiredInProduction: true,
    description:
      'PKCS#12 bundle for PDF signatures: a path to a .p12/.pfx file, or its content in base64. Outside production a self-signed one is generated.',
  },
  {
    name: 'SIGNING_P12_PASSWORD',
    default: null,
    requiredInProduction: true,
    description: 'Password of `SIGNING_P12`.',
  },
  {
    name: 'MIGRATE_ON_START',
    default: 'true',
    requiredInProduction: false,
    description:
      '`true`: run pending migrations (index builds) before serving. `false`: only check them; run `npm run migrate` yourself (production refuses to start while an invariant index is missing).',
  },
  {
    name: 'METRICS_TOKEN',
    default: null,
    requiredInProduction: false,
    description:
      'Bearer token for `GET /metrics` (Prometheus). Unset: `/metrics` is refused in production and open otherwise.',
  },
]);

/** The variables as a Markdown table, for README. */
export function envVarsMarkdownTable(): string {
  const rows = ENV_VARS.map(
    (v) =>
      `| \`${v.name}\` | ${envVarDefaultCell(v)} | ${v.requiredInProduction ? 'yes' : 'no'} | ${v.description} |`,
  );
  return [
    '| Variable | Default | Required in production | Description |',
    '| --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

export function envVarDefaultCell(v: EnvVarDoc): string {
  return v.default === null ? '—' : `\`${v.default}\``;
}

const intVar = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));

const httpUrl = z.string().refine((s) => {
  try {
    return ['http:', 'https:'].includes(new URL(s).protocol);
  } catch {
    return false;
  }
}, 'must be an absolute http(s) URL');

// Drawn on one line of the certificate and its seal: short, printable, no control characters.
const associationName = z
  .string()
  .max(40, 'must be at most 40 characters')
  .refine((s) => !/[\p{Cc}\p{Cf}]/u.test(s), 'must not hold control or format characters');

/** Raw variables (all strings; empty counts as unset). Cross-field rules live in loadConfig. */
export const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  PORT: intVar(0, 65535).optional(),
  PUBLIC_URL: httpUrl.optional(),
  ASSOCIATION_NAME_ZH: associationName.optional(),
  ASSOCIATION_NAME_EN: associationName.optional(),
  MONGODB_URI: z
    .string()
    .regex(/^mongodb(\+srv)?:\/\/./, 'must start with mongodb:// or mongodb+srv://')
    .optional(),
  ALLOW_EMBEDDED_STORE: z.enum(['0', '1'], 'must be 1 or 0').default('0'),
  DATA_DIR: z.string().default('./data'),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  TRUST_PROXY: z
    .string()
    .refine(isTrustProxyValue, 'must be true, false, a hop count, or addresses/subnets')
    .optional(),
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\/./, 'must be an smtp:// or smtps:// URL')
    .optional(),
  REVIEW_MODE: z.enum(['manual', 'auto']).default('manual'),
  RATE_LIMIT_SIGNING_PER_MIN: intVar(1, 1_000_000_000).default(10),
  RATE_LIMIT_SIGNING_PER_CODE_PER_DAY: intVar(1, 1_000_000_000).default(5),
  RATE_LIMIT_SIGNING_PER_DOMAIN_PER_DAY: intVar(1, 1_000_000_000).default(100),
  RATE_LIMIT_LOGIN_PER_MIN: intVar(1, 1_000_000_000).default(10),
  RATE_LIMIT_VERIFY_PER_MIN: intVar(1, 1_000_000_000).default(30),
  SIGNING_KEY: z.string().optional(),
  SIGNING_P12: z.string().optional(),
  SIGNING_P12_PASSWORD: z.string().optional(),
  MIGRATE_ON_START: z.enum(['true', 'false'], 'must be true or false').default('true'),
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
});

{
  const documented = ENV_VARS.map((v) => v.name).sort();
  const schemaKeys = Object.keys(envSchema.shape).sort();
  if (documented.join() !== schemaKeys.join()) {
    throw new Error(`config.ts: ENV_VARS and envSchema disagree: ${documented} vs ${schemaKeys}`);
  }
}

function isTrustProxyValue(s: string): boolean {
  if (/^(true|false|\d+)$/.test(s)) return true;
  return s.split(',').every((part) => {
    const p = part.trim();
    if (['loopback', 'linklocal', 'uniquelocal'].includes(p)) return true;
    const [addr, bits, extra] = p.split('/');
    return extra === undefined && isIP(addr) !== 0 && (bits === undefined || /^\d+$/.test(bits));
  });
}

/** Where a signing key or bundle comes from; the certificates module reads it. */
export type SecretSource =
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'pem'; readonly pem: string }
  | { readonly kind: 'base64'; readonly base64: string };

export interface Config {
  readonly env: 'development' | 'test' | 'production';
  readonly isProduction: boolean;
  readonly port: number;
  /** No trailing slash. */
  readonly publicUrl: string;
  /** The issuing association's name (certificates, credentials); fictional outside production. */
  readonly association: { readonly zh: string; readonly en: string };
  /** Unset: the server starts the embedded store. */
  readonly mongodbUri: string | undefined;
  /** Production may run on the embedded store only when this was set explicitly. */
  readonly allowEmbeddedStore: boolean;
  /** Absolute path. */
  readonly dataDir: string;
  readonly logLevel: LogLevel;
  readonly trustProxy: boolean | number | string;
  readonly jwtSecret: string;
  /** True when no JWT_SECRET was given and a random one was made for this process. */
  readonly jwtSecretEphemeral: boolean;
  readonly smtpUrl: string | undefined;
  readonly reviewMode: 'manual' | 'auto';
  readonly rateLimit: {
    readonly signingPerMin: number;
    readonly signingPerCodePerDay: number;
    readonly signingPerDomainPerDay: number;
    readonly loginPerMin: number;
    readonly verifyPerMin: number;
  };
  /** Run pending migrations before serving (else only check the invariant indexes). */
  readonly migrateOnStart: boolean;
  /** Bearer token for /metrics; undefined: refused in production, open otherwise. */
  readonly metricsToken: string | undefined;
  readonly signing: {
    /** PEM text or a PEM file; undefined outside production means "generate a dev key". */
    readonly key: SecretSource | undefined;
    /** A .p12 file or base64 content; undefined outside production means "generate one". */
    readonly p12: SecretSource | undefined;
    readonly p12Password: string | undefined;
  };
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

// One per process, so every loadConfig() call in a process agrees and tokens stay valid
// until restart.
let ephemeralJwtSecret: string | undefined;

type Env = Record<string, string | undefined>;

/** Reads, checks and freezes the configuration. Throws ConfigError listing every bad variable. */
export function loadConfig(env: Env = process.env): Config {
  const raw: Env = {};
  for (const { name } of ENV_VARS) {
    const value = env[name];
    // An empty variable (`PORT=` in a unit file) means "unset", not "zero" or "empty secret".
    raw[name] = value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  const problems: string[] = [];
  const parsed = envSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      problems.push(`${issue.path.map(String).join('.')}: ${issue.message}`);
    }
  }

  const isProduction = raw.NODE_ENV === 'production';
  if (isProduction) {
    for (const v of ENV_VARS) {
      if (v.requiredInProduction && raw[v.name] === undefined) {
        problems.push(`${v.name}: required when NODE_ENV=production`);
      }
    }
    // Refused rather than warned about: a warning in a log nobody reads is how a registry ends
    // up keeping its only copy of the data in a single local file.
    if (raw.MONGODB_URI === undefined && raw.ALLOW_EMBEDDED_STORE !== '1') {
      problems.push(
        'MONGODB_URI: required when NODE_ENV=production (or set ALLOW_EMBEDDED_STORE=1 to run on the embedded store)',
      );
    }
  }

  const signingKey = raw.SIGNING_KEY === undefined ? undefined : keySource(raw.SIGNING_KEY);
  if (typeof signingKey === 'string') problems.push(`SIGNING_KEY: ${signingKey}`);
  const p12 = raw.SIGNING_P12 === undefined ? undefined : p12Source(raw.SIGNING_P12);
  if (typeof p12 === 'string') problems.push(`SIGNING_P12: ${p12}`);

  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const e = parsed.data;

  const port = e.PORT ?? 3000;
  let jwtSecret = e.JWT_SECRET;
  const jwtSecretEphemeral = jwtSecret === undefined;
  if (jwtSecret === undefined) {
    ephemeralJwtSecret ??= randomBytes(32).toString('base64url');
    jwtSecret = ephemeralJwtSecret;
  }

  return Object.freeze({
    env: e.NODE_ENV,
    isProduction,
    port,
    publicUrl: (e.PUBLIC_URL ?? `http://localhost:${port}`).replace(/\/+$/, ''),
    association: Object.freeze({
      zh: e.ASSOCIATION_NAME_ZH ?? DEFAULT_ASSOCIATION.zh,
      en: e.ASSOCIATION_NAME_EN ?? DEFAULT_ASSOCIATION.en,
    }),
    mongodbUri: e.MONGODB_URI,
    allowEmbeddedStore: e.ALLOW_EMBEDDED_STORE === '1',
    dataDir: path.resolve(e.DATA_DIR),
    logLevel: e.LOG_LEVEL,
    trustProxy: parseTrustProxy(e.TRUST_PROXY),
    jwtSecret,
    jwtSecretEphemeral,
    smtpUrl: e.SMTP_URL,
    reviewMode: e.REVIEW_MODE,
    rateLimit: Object.freeze({
      signingPerMin: e.RATE_LIMIT_SIGNING_PER_MIN,
      signingPerCodePerDay: e.RATE_LIMIT_SIGNING_PER_CODE_PER_DAY,
      signingPerDomainPerDay: e.RATE_LIMIT_SIGNING_PER_DOMAIN_PER_DAY,
      loginPerMin: e.RATE_LIMIT_LOGIN_PER_MIN,
      verifyPerMin: e.RATE_LIMIT_VERIFY_PER_MIN,
    }),
    migrateOnStart: e.MIGRATE_ON_START === 'true',
    metricsToken: e.METRICS_TOKEN,
    signing: Object.freeze({
      key: signingKey as SecretSource | undefined,
      p12: p12 as SecretSource | undefined,
      p12Password: e.SIGNING_P12_PASSWORD,
    }),
  });
}

function parseTrustProxy(value: string | undefined): boolean | number | string {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  if (/^\d+$/.test(value)) return Number(value);
  return value;
}

function isFile(p: string): boolean {
  return existsSync(p) && statSync(p).isFile();
}

// Returns the source, or a message saying what is wrong (never echoing the secret itself).
// Parsing the key now makes a bad key fail at start instead of at the first certificate.
function keySource(value: string): SecretSource | string {
  // Literal "\n" sequences are unescaped because many secret stores hold PEM on one line.
  const source: SecretSource = value.includes('-----BEGIN')
    ? Object.freeze({ kind: 'pem', pem: value.replace(/\\n/g, '\n') })
    : Object.freeze({ kind: 'file', path: path.resolve(value) });
  if (source.kind === 'file' && !isFile(source.path)) {
    return `not PEM text and no such file: ${source.path}`;
  }
  try {
    createPrivateKey(source.kind === 'pem' ? source.pem : readFileSync(source.path));
  } catch {
    return 'is not a readable PEM private key';
  }
  return source;
}

function p12Source(value: string): SecretSource | string {
  const file = path.resolve(value);
  if (isFile(file)) return Object.freeze({ kind: 'file', path: file });
  const compact = value.replace(/\s+/g, '');
  if (compact.length >= 64 && /^[A-Za-z0-9+/]+={0,2}$/.test(compact)) {
    return Object.freeze({ kind: 'base64', base64: compact });
  }
  return `neither an existing file (${file}) nor base64 PKCS#12 content`;
}

/** The bytes behind a SecretSource (PEM as UTF-8, base64 decoded, files read). */
export function readSecret(source: SecretSource): Buffer {
  switch (source.kind) {
    case 'file':
      return readFileSync(source.path);
    case 'pem':
      return Buffer.from(source.pem, 'utf8');
    case 'base64':
      return Buffer.from(source.base64, 'base64');
  }
}
