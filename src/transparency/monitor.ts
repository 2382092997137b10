/**
 * The log monitor (`npm run log:audit`): reads a registry's log over HTTP as any outsider can —
 * checkpoint, every hash tile and entry bundle — and trusts nothing it did not recompute:
 * - the checkpoint's signature (with the vkey given, or the one remembered from the last run);
 * - every entry against its level-0 hash tile, every higher tile against the tiles below, and
 *   the root against the checkpoint;
 * - append-only: the tree at the last size seen (state file) must still have the root seen then,
 *   recomputed from the entries and also checked with the server's consistency proof;
 * - then replays the entries alone into the founders list (1–100 ↔ USCC), the certificates'
 *   status and the active certificate count, and compares them with /api/v1/founders,
 *   /api/v1/stats and /api/v1/certificates/:serial. Every difference is reported.
 */
import {
  decodeEntry,
  leafHash,
  openCheckpoint,
  parseBundle,
  parseVerifierKey,
  rootFromLeafHashes,
  tileHashes,
  tileLevels,
  tilePath,
  tilesForSize,
  verifyConsistency,
  type LogEntry,
} from '../tlog';

export interface MonitorState {
  vkey: string;
  size: number;
  /** base64 */
  root: string;
}

export interface MonitorReport {
  origin: string;
  size: number;
  root: string;
  differences: string[];
  founders: Array<{ foundingNumber: number; uscc: string }>;
  activeCertificates: number;
  revoked: string[];
  /** What to remember for the next run: this checkpoint when all was well, else the last good one. */
  state: MonitorState | null;
}

export interface MonitorOptions {
  url: string;
  vkey?: string;
  state?: MonitorState | null;
  fetch?: typeof fetch;
  /** How many certificate lookups run at once. */
  concurrency?: number;
}

type CertStatus = 'valid' | 'revoked' | 'withdrawn' | 'superseded';

export async function auditLog(o: MonitorOptions): Promise<MonitorReport> {
  const base = o.url.replace(/\/+$/, '');
  const get = o.fetch ?? fetch;
  const differences: string[] = [];
  const differ = (s: string) => differences.push(s);
  const fetchOk = async (path: string): Promise<Response> => {
    const res = await get(`${base}${path}`);
    if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status}`);
    return res;
  };
  const text = async (path: string) => (await fetchOk(path)).text();
  const binary = async (path: string) => Buffer.from(await (await fetchOk(path)).arrayBuffer());
  const json = async (path: string) =>
    (await fetchOk(path)).json() as Promise<Record<string, unknown>>;

  const servedVkey = (await text('/log/vkey')).trim();
  const vkey = o.vkey ?? o.state?.vkey ?? servedVkey;
  if (servedVkey !== vkey) differ(`the log serves vkey ${servedVkey}, not the expected ${vkey}`);
  const verifier = parseVerifierKey(vkey);
  const cp = openCheckpoint(await text('/log/checkpoint'), verifier);

  // Entries and hash tiles, each checked against what is below it.
  const entries: Buffer[] = [];
  const tiles = tilesForSize(cp.size, { entries: true });
  for (const t of tiles.filter((t) => t.level === 'entries')) {
    const bundle = parseBundle(await binary(`/log/${tilePath(t)}`), t.width);
    entries.push(...bundle);
  }
  const leaves = entries.map((e) => leafHash(e));
  const levels = tileLevels(leaves);
  for (const t of tiles) {
    if (t.level === 'entries') continue;
    const served = tileHashes(await binary(`/log/${tilePath(t)}`), t.width);
    const mine = levels[t.level].slice(t.index * 256, t.index * 256 + t.width);
    const bad = served.findIndex((h, i) => !mine[i] || !h.equals(mine[i]));
    if (bad >= 0)
      differ(
        `hash tile ${tilePath(t)} does not match the entries below it (hash ${bad}${t.level === 0 ? `, entry ${t.index * 256 + bad}` : ''})`,
      );
  }
  const root = rootFromLeafHashes(leaves);
  if (!root.equals(cp.rootHash))
    differ(
      `the entries hash to root ${root.toString('base64')}, the checkpoint says ${cp.rootHash.toString('base64')}`,
    );

  // Append-only since the last run.
  const last = o.state;
  if (last && last.vkey === vkey) {
    if (cp.size < last.size) differ(`the log shrank from ${last.size} to ${cp.size} entries`);
    else if (last.size > 0) {
      const then = rootFromLeafHashes(leaves.slice(0, last.size));
      if (then.toString('base64') !== last.root)
        differ(
          `the first ${last.size} entries no longer hash to the root seen before (${last.root}): the log was rewritten`,
        );
      if (cp.size > last.size) {
        const proof = (
          (await json(`/api/v1/log/consistency?from=${last.size}&to=${cp.size}`)).proof as string[]
        ).map((p) => Buffer.from(p, 'base64'));
        if (
          !verifyConsistency(
            last.size,
            cp.size,
            proof,
            Buffer.from(last.root, 'base64'),
            cp.rootHash,
          )
        )
          differ(
            `the server's consistency proof from ${last.size} to ${cp.size} does not verify against the checkpoint seen before`,
          );
      }
    }
  }

  // Replay.
  const founders = new Map<number, string>();
  const sequences = new Set<number>();
  const certs = new Map<string, CertStatus>();
  const seen = new Set<string>();
  entries.forEach((bytes, i) => {
    let e: LogEntry;
    try {
      e = decodeEntry(bytes);
    } catch (err) {
      differ(`entry ${i} is not a valid log entry: ${(err as Error).message}`);
      return;
    }
    const key =
      'serial' in e
        ? `${e.type}:${e.serial}`
        : e.type === 'pledge.activated'
          ? `${e.type}:${e.sequence}`
          : `${e.type}:${e.initiative.version}`;
    if (seen.has(key)) differ(`entry ${i} repeats ${key}`);
    seen.add(key);
    switch (e.type) {
      case 'pledge.activated':
        if (sequences.has(e.sequence)) differ(`entry ${i}: sequence ${e.sequence} activated twice`);
        sequences.add(e.sequence);
        if (e.foundingNumber !== null) {
          if (founders.has(e.foundingNumber))
            differ(`entry ${i}: founding number ${e.foundingNumber} given twice`);
          else founders.set(e.foundingNumber, e.uscc);
        }
        break;
      case 'certificate.issued':
        certs.set(e.serial, 'valid');
        break;
      case 'certificate.revoked':
      case 'certificate.withdrawn':
      case 'certificate.superseded':
        if (certs.get(e.serial) !== 'valid')
          differ(`entry ${i}: ${e.type} for ${e.serial}, which the log does not show as valid`);
        certs.set(e.serial, e.type.slice('certificate.'.length) as CertStatus);
        break;
      default:
        break;
    }
  });
  const foundersList = [...founders]
    .sort((a, b) => a[0] - b[0])
    .map(([foundingNumber, uscc]) => ({ foundingNumber, uscc }));
  const activeCertificates = [...certs.values()].filter((s) => s === 'valid').length;
  const revoked = [...certs]
    .filter(([, s]) => s === 'revoked')
    .map(([serial]) => serial)
    .sort();

  // Compare with the public API.
  const apiFounders = (
    (await json('/api/v1/founders')).items as Array<{
      foundingNumber: number;
      company: { uscc: string };
    }>
  ).map((f) => ({ foundingNumber: f.foundingNumber, uscc: f.company.uscc }));
  const byNumber = new Map(apiFounders.map((f) => [f.foundingNumber, f.uscc]));
  for (const f of foundersList) {
    const shown = byNumber.get(f.foundingNumber);
    if (shown !== f.uscc)
      differ(
        `founder ${f.foundingNumber}: the log says ${f.uscc}, /api/v1/founders says ${shown ?? 'nobody'}`,
      );
  }
  for (const f of apiFounders)
    if (!founders.has(f.foundingNumber))
      differ(
        `founder ${f.foundingNumber} (${f.uscc}) is listed by /api/v1/founders but not in the log`,
      );
  const stats = (await json('/api/v1/stats')).totals as { active: number; founders: number };
  if (stats.founders !== founders.size)
    differ(`/api/v1/stats counts ${stats.founders} founders, the log ${founders.size}`);
  if (stats.active !== activeCertificates)
    differ(
      `/api/v1/stats counts ${stats.active} active signatories, the log ${activeCertificates} valid certificates`,
    );
  const serials = [...certs.keys()];
  let next = 0;
  const worker = async () => {
    while (next < serials.length) {
      const serial = serials[next++];
      const res = await get(`${base}/api/v1/certificates/${encodeURIComponent(serial)}`);
      if (!res.ok) {
        differ(`certificate ${serial}: in the log, but /api/v1/certificates answers ${res.status}`);
        continue;
      }
      const status = ((await res.json()) as { status: string }).status;
      if (status !== certs.get(serial))
        differ(
          `certificate ${serial}: the log says ${certs.get(serial)}, the registry says ${status}`,
        );
    }
  };
  await Promise.all(Array.from({ length: o.concurrency ?? 8 }, worker));

  const rootB64 = cp.rootHash.toString('base64');
  // The state moves on only when this checkpoint is the honest extension of the last one.
  const state = differences.length === 0 ? { vkey, size: cp.size, root: rootB64 } : (last ?? null);
  return {
    origin: cp.origin,
    size: cp.size,
    root: rootB64,
    differences,
    founders: foundersList,
    activeCertificates,
    revoked,
    state,
  };
}
