/**
 * The registry's transparency log (issue #13), one per app instance: its identity (origin = key
 * name = PUBLIC_URL without scheme + "/log", signed with the registry's Ed25519 key), the
 * sequencer run in the background (woken by appends, batched by `batchMs`, polled every
 * `pollMs` so intents appended by other instances are integrated too), recovery of missing
 * intents, and what serving and certificates need (checkpoint, proofs, proof bundles).
 */
import { createHash, type KeyObject } from 'node:crypto';
import { LogEntryRecord, LogIntent } from '../../models/transparency-log';
import { BackgroundTask } from '../background';
import type { Logger } from '../logger';
import { decodeEntry, ed25519Signer, formatVerifierKey, originFromPublicUrl } from '../tlog';
import { appendIntents, onIntent, recoverIntents } from './intents';
import { Sequencer } from './sequencer';
import { bytes, latestCheckpoint, LogReader } from './store';

export interface TransparencyLogOptions {
  publicUrl: string;
  privateKey: KeyObject;
  logger: Logger;
  /** Delay between an append and the pass that integrates it (gathers a batch). */
  batchMs?: number;
  /** How often the sequencer looks for work appended elsewhere. */
  pollMs?: number;
  /** How often recovery scans for state changes without an intent. */
  recoverMs?: number;
}

/** What a certificate carries to prove its `certificate.issued` entry offline. */
export interface ProofBundle {
  leafIndex: number;
  entry: string;
  inclusionProof: string[];
  checkpoint: string;
}

/** Waiting for a checkpoint: woken when any sequencer pass in this process ends (no polling). */
const passWaiters = new Set<() => void>();

export class TransparencyLog {
  readonly origin: string;
  readonly vkey: string;
  readonly reader = new LogReader();
  readonly sequencer: Sequencer;
  readonly batchMs: number;
  private readonly task: BackgroundTask;
  private readonly recovery: BackgroundTask;
  private timer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;

  constructor(private readonly o: TransparencyLogOptions) {
    this.origin = originFromPublicUrl(o.publicUrl);
    const signer = ed25519Signer(this.origin, o.privateKey);
    this.vkey = formatVerifierKey(this.origin, o.privateKey);
    this.batchMs = o.batchMs ?? 100;
    this.sequencer = new Sequencer({ origin: this.origin, signer, reader: this.reader });
    this.task = new BackgroundTask(
      'integrating the transparency log',
      () => this.sequencer.integrate().finally(() => this.passEnded()),
      o.pollMs ?? 250,
      o.logger,
    );
    this.recovery = new BackgroundTask(
      'recovering transparency log intents',
      () => this.recover(),
      o.recoverMs ?? 60_000,
      o.logger,
    );
  }

  /** Integrates soon (after `batchMs`, so appends close together share one pass and checkpoint). */
  poke(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.task.poke();
    }, this.batchMs).unref();
  }

  private passEnded(): void {
    const waiters = [...passWaiters];
    passWaiters.clear();
    for (const w of waiters) w();
  }

  /**
   * Resolves when a sequencer pass in this process ends, or after `ms`. Passes also run every
   * `pollMs`, so a checkpoint another instance signed is seen after the next one.
   */
  private nextPass(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        passWaiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, Math.max(0, ms));
      passWaiters.add(wake);
    });
  }

  async recover(): Promise<number> {
    const n = await recoverIntents();
    if (n)
      this.o.logger.warn(
        { recovered: n },
        'appended log intents for state changes a crash left unlogged',
      );
    return n;
  }

  /** Starts the sequencer and the periodic recovery (the first recovery pass runs at once). */
  start(): void {
    this.unsubscribe = onIntent(() => this.poke());
    this.task.start();
    this.recovery.start();
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await Promise.all([this.task.stop(), this.recovery.stop()]);
  }

  /** Waits for the sequencer's pass in progress (tests). */
  idle(): Promise<void> {
    return this.task.idle();
  }

  async checkpoint(): Promise<{ size: number; note: string } | null> {
    const c = await latestCheckpoint();
    return c ? { size: c._id, note: c.note } : null;
  }

  /**
   * The proof bundle of intent `key` against the latest checkpoint, waiting up to `timeoutMs`
   * for it to be integrated and signed (woken by sequencer passes); null when it is not in the
   * log by then. `appended`: the caller has just appended it, so the first look waits for a pass.
   */
  async proofBundle(key: string, timeoutMs = 0, appended = false): Promise<ProofBundle | null> {
    const deadline = Date.now() + timeoutMs;
    // Just appended: no checkpoint can cover it before a pass, so reading now would be wasted.
    if (appended && timeoutMs > 0) {
      this.poke();
      await this.nextPass(deadline - Date.now());
    }
    for (;;) {
      // Integrated and signed by this process's sequencer: nothing to read back.
      const here = this.sequencer.integrated(key);
      const signed = this.sequencer.signed;
      if (here && signed && signed.size > here.index)
        return {
          leafIndex: here.index,
          entry: here.data.toString('base64'),
          inclusionProof: (await this.reader.inclusion(here.index, signed.size)).map((p) =>
            p.toString('base64'),
          ),
          checkpoint: signed.note,
        };
      const intent = await LogIntent.findById(key, { index: 1 }).lean();
      const head = await latestCheckpoint();
      if (intent?.index !== undefined && head && head._id > intent.index) {
        const entry = await LogEntryRecord.findById(intent.index).lean();
        if (!entry) return null;
        const proof = await this.reader.inclusion(intent.index, head._id);
        return {
          leafIndex: intent.index,
          entry: bytes(entry.data).toString('base64'),
          inclusionProof: proof.map((p) => p.toString('base64')),
          checkpoint: head.note,
        };
      }
      if (Date.now() >= deadline) return null;
      this.poke();
      await this.nextPass(deadline - Date.now());
    }
  }

  /** The issue time an earlier, interrupted attempt logged for `serial` (a retry reuses it). */
  async loggedIssueTime(serial: string): Promise<Date | null> {
    const intent = await LogIntent.findById(`certificate.issued:${serial}`).lean();
    return intent ? new Date(decodeEntry(bytes(intent.entry)).at) : null;
  }

  /**
   * Logs a certificate's issue (its credential) and waits for a checkpoint that covers it;
   * returns the proof bundle for log-proof.json. Throws rather than let a certificate go out
   * without one (the issuer retries later).
   */
  async certificateProof(
    c: { serial: string; uscc: string; jws: string; issuedAt: Date },
    timeoutMs = 5000,
  ): Promise<ProofBundle> {
    const credentialSha256 = createHash('sha256').update(c.jws, 'utf8').digest('hex');
    const key = `certificate.issued:${c.serial}`;
    await appendIntents([
      {
        key,
        entry: {
          v: 1,
          type: 'certificate.issued',
          at: c.issuedAt.toISOString(),
          uscc: c.uscc,
          serial: c.serial,
          credentialSha256,
        },
      },
    ]);
    const bundle = await this.proofBundle(key, timeoutMs, true);
    if (!bundle)
      throw new Error(
        `certificate ${c.serial}: no checkpoint covered its log entry within ${timeoutMs} ms`,
      );
    const logged = decodeEntry(Buffer.from(bundle.entry, 'base64'));
    if (!('credentialSha256' in logged) || logged.credentialSha256 !== credentialSha256)
      throw new Error(`certificate ${c.serial}: the log holds another credential for this serial`);
    return bundle;
  }

  /** The size of the latest checkpoint (0 before the first). */
  async size(): Promise<number> {
    return (await this.checkpoint())?.size ?? 0;
  }
}
