/**
 * Offline checks of a certificate against the transparency log and the status lists, from what
 * the verifier holds (the PDF's log-proof.json, a verifier key, a saved status list) and nothing
 * else: no database, no network. `npm run verify` runs them; each returns named checks in the
 * shape of certificates' VerificationCheck, with a reason in words when one fails and a detail
 * when it passes.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import {
  verifyCredential,
  type CertificateCredential,
  type Jwks,
  type VerificationCheck,
} from '../../certificates';
import {
  decodeEntry,
  leafHash,
  openCheckpoint,
  parseStatusListIndex,
  parseVerifierKey,
  StatusList,
  verifyConsistency,
  verifyInclusion,
  type Checkpoint,
  type NoteVerifier,
} from '../tlog';

const Base64Hash = z.string().regex(/^[A-Za-z0-9+/]{43}=$/, 'a base64 SHA-256 hash');

/** log-proof.json, as certificates/issue attaches it (src/transparency/log.ts ProofBundle). */
export const ProofBundleShape = z.strictObject({
  leafIndex: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  entry: z.string().max(96 * 1024),
  inclusionProof: z.array(Base64Hash).max(64),
  checkpoint: z.string().max(16 * 1024),
});

export type SignedCheckpoint = Checkpoint & { note: string };

const pass = (name: string, detail: string): VerificationCheck => ({ name, ok: true, detail });
const fail = (name: string, code: string, reason: string): VerificationCheck => ({
  name,
  ok: false,
  code,
  reason,
});

export const LOG_CHECKS = [
  'log-proof-present',
  'log-checkpoint-signature',
  'log-inclusion',
  'log-entry-matches-credential',
] as const;

/** A verifier key's text, or why it is not one. */
export function verifierOf(vkey: string): (NoteVerifier & { publicKey: Buffer }) | string {
  try {
    return parseVerifierKey(vkey.trim());
  } catch (e) {
    return (e as Error).message;
  }
}

/**
 * log-proof.json against the log's verifier key and the credential: the checkpoint is a note
 * signed by that key (its origin the key's name), the entry is at `leafIndex` in the checkpoint's
 * tree, and it is the `certificate.issued` entry of this credential (serial, SHA-256 of the JWS).
 * Every check of LOG_CHECKS is reported, failed ones with why.
 */
export function checkLogProof(o: {
  proofText: string | undefined;
  jws: string | undefined;
  credential: CertificateCredential | undefined;
  vkey: string | undefined;
  vkeySource: string;
}): { checks: VerificationCheck[]; checkpoint?: SignedCheckpoint; verifier?: NoteVerifier } {
  const checks: VerificationCheck[] = [];
  const rest = (code: string, reason: string) => {
    for (const n of LOG_CHECKS)
      if (!checks.some((c) => c.name === n)) checks.push(fail(n, code, reason));
    return { checks };
  };
  if (o.proofText === undefined) return rest('no-log-proof', 'the PDF carries no log-proof.json');
  let json: unknown;
  try {
    json = JSON.parse(o.proofText);
  } catch {
    // reported with the shape below
  }
  const parsed = ProofBundleShape.safeParse(json);
  if (!parsed.success)
    return rest(
      'log-proof-malformed',
      `log-proof.json is not a proof bundle (${parsed.error.issues[0]?.path.join('.') || 'JSON'}: ${parsed.error.issues[0]?.message ?? 'not JSON'})`,
    );
  const bundle = parsed.data;
  const entryBytes = Buffer.from(bundle.entry, 'base64');
  checks.push(
    pass(
      'log-proof-present',
      `log-proof.json holds entry ${bundle.leafIndex} of the log with its inclusion proof and a signed checkpoint`,
    ),
  );

  if (!o.vkey)
    return rest(
      'no-vkey',
      'no verifier key for the log: give --vkey (GET /log/vkey), the credential carries none',
    );
  const verifier = verifierOf(o.vkey);
  if (typeof verifier === 'string')
    return rest('bad-vkey', `the log verifier key from ${o.vkeySource} is not usable: ${verifier}`);
  let cp: SignedCheckpoint;
  try {
    cp = openCheckpoint(bundle.checkpoint, verifier);
  } catch (e) {
    return rest(
      'checkpoint-unverified',
      `the embedded checkpoint is not signed by ${verifier.name} (key from ${o.vkeySource}): ${(e as Error).message}`,
    );
  }
  checks.push(
    pass(
      'log-checkpoint-signature',
      `the embedded checkpoint (tree size ${cp.size}) is signed by the log key ${verifier.name} (from ${o.vkeySource})`,
    ),
  );

  const proof = bundle.inclusionProof.map((h) => Buffer.from(h, 'base64'));
  if (verifyInclusion(bundle.leafIndex, cp.size, leafHash(entryBytes), proof, cp.rootHash))
    checks.push(
      pass(
        'log-inclusion',
        `the entry is leaf ${bundle.leafIndex} of the tree of size ${cp.size} whose root the checkpoint signs`,
      ),
    );
  else
    checks.push(
      fail(
        'log-inclusion',
        'inclusion-invalid',
        `the inclusion proof does not lead from entry ${bundle.leafIndex} to the checkpoint's root`,
      ),
    );

  const sha = o.jws ? createHash('sha256').update(o.jws, 'utf8').digest('hex') : undefined;
  let entry: ReturnType<typeof decodeEntry> | undefined;
  try {
    entry = decodeEntry(entryBytes);
  } catch (e) {
    checks.push(
      fail(
        'log-entry-matches-credential',
        'entry-malformed',
        `the logged entry is not a log entry: ${(e as Error).message}`,
      ),
    );
  }
  if (entry) {
    if (entry.type !== 'certificate.issued')
      checks.push(
        fail(
          'log-entry-matches-credential',
          'entry-mismatch',
          `the logged entry is a ${entry.type}, not a certificate.issued`,
        ),
      );
    else if (!o.credential || !sha)
      checks.push(
        fail(
          'log-entry-matches-credential',
          'no-verified-credential',
          'no verified credential to compare the entry with',
        ),
      );
    else if (entry.serial !== o.credential.serialNumber)
      checks.push(
        fail(
          'log-entry-matches-credential',
          'entry-mismatch',
          `the logged entry is for certificate ${entry.serial}, not ${o.credential.serialNumber}`,
        ),
      );
    else if (entry.credentialSha256 !== sha)
      checks.push(
        fail(
          'log-entry-matches-credential',
          'entry-mismatch',
          'the log recorded another credential for this serial (its SHA-256 differs from the attached credential.jws)',
        ),
      );
    else
      checks.push(
        pass(
          'log-entry-matches-credential',
          `the log recorded the issue of ${entry.serial} with the SHA-256 of this very credential`,
        ),
      );
  }
  return { checks, checkpoint: cp, verifier };
}

const StatusListPayload = z.object({
  id: z.string(),
  type: z
    .array(z.string())
    .refine((t) => t.includes('BitstringStatusListCredential'), 'a BitstringStatusListCredential'),
  validFrom: z.string().optional(),
  credentialSubject: z.object({ statusPurpose: z.string(), encodedList: z.string() }).loose(),
});

/**
 * The credential's bit in a status list (a BitstringStatusListCredential JWS, as
 * GET /api/v1/status/revocation serves it): the list's signature must verify with the registry's
 * keys, and the list must be the one the credential names for that purpose. Check 'status-list'
 * passes when the bit is clear; a set bit fails as "revoked" (or "suspended").
 */
export function checkStatusList(
  listJws: string,
  jwks: Jwks,
  credential: CertificateCredential | undefined,
  source: string,
): VerificationCheck {
  const name = 'status-list';
  let payload: z.infer<typeof StatusListPayload>;
  try {
    const parsed = StatusListPayload.safeParse(verifyCredential(listJws.trim(), jwks));
    if (!parsed.success)
      return fail(
        name,
        'status-list-malformed',
        `${source} is not a BitstringStatusListCredential`,
      );
    payload = parsed.data;
  } catch (e) {
    return fail(
      name,
      'status-list-unverified',
      `the status list from ${source} does not verify with the registry's keys: ${(e as Error).message}`,
    );
  }
  if (!credential)
    return fail(
      name,
      'no-verified-credential',
      'no verified credential to read a status entry from',
    );
  const purpose = payload.credentialSubject.statusPurpose;
  const entry = credential.credentialStatus?.find((s) => s.statusPurpose === purpose);
  if (!entry) return fail(name, 'no-status-entry', `the credential has no ${purpose} status entry`);
  if (entry.statusListCredential !== payload.id)
    return fail(
      name,
      'status-list-other',
      `the status list from ${source} is ${payload.id}, not the credential's ${entry.statusListCredential}`,
    );
  let set: boolean;
  let index: number;
  try {
    index = parseStatusListIndex(entry.statusListIndex ?? '');
    set = StatusList.decode(payload.credentialSubject.encodedList).get(index);
  } catch (e) {
    return fail(
      name,
      'status-list-malformed',
      `the status list cannot be read: ${(e as Error).message}`,
    );
  }
  const when = payload.validFrom ? ` as of ${payload.validFrom}` : '';
  if (!set)
    return pass(
      name,
      `not ${purpose === 'revocation' ? 'revoked' : purpose === 'suspension' ? 'suspended' : `flagged (${purpose})`}: bit ${index} of the ${purpose} list is clear${when}`,
    );
  const word =
    purpose === 'revocation'
      ? 'revoked'
      : purpose === 'suspension'
        ? 'suspended (withdrawn or superseded)'
        : `flagged for ${purpose}`;
  return fail(
    name,
    `certificate-${purpose}`,
    `the certificate is ${word}: bit ${index} of the ${purpose} list is set${when}`,
  );
}

/**
 * The newest checkpoint against the embedded one: signed by the same key, not smaller, and an
 * append-only extension of it (the consistency proof). Check 'log-consistency'.
 */
export function checkConsistency(
  embedded: SignedCheckpoint,
  verifier: NoteVerifier,
  newestNote: string,
  proof: readonly string[] | null,
): VerificationCheck {
  const name = 'log-consistency';
  let newest: SignedCheckpoint;
  try {
    newest = openCheckpoint(newestNote, verifier);
  } catch (e) {
    return fail(
      name,
      'checkpoint-unverified',
      `the log's newest checkpoint is not signed by ${verifier.name}: ${(e as Error).message}`,
    );
  }
  if (newest.size < embedded.size)
    return fail(
      name,
      'log-shrunk',
      `the log's newest checkpoint has ${newest.size} entries, fewer than the ${embedded.size} the certificate's checkpoint has`,
    );
  const hashes = (proof ?? []).map((h) => Buffer.from(h, 'base64'));
  if (!verifyConsistency(embedded.size, newest.size, hashes, embedded.rootHash, newest.rootHash))
    return fail(
      name,
      'log-inconsistent',
      `the log of size ${newest.size} is not an append-only extension of the tree of size ${embedded.size} the certificate was proved in`,
    );
  return pass(
    name,
    `the log's newest checkpoint (tree size ${newest.size}) extends the certificate's (tree size ${embedded.size}): nothing was rewritten`,
  );
}
