/**
 * Delivers queued mail with retries and backoff. Several app instances can run senders: each
 * claims a message with an atomic update and a lock that expires if it crashes mid-send.
 */
import fs from 'node:fs';
import path from 'node:path';
import mongoose from 'mongoose';
import nodemailer, { type Transporter } from 'nodemailer';
import { Outbox, type OutboxDoc } from '../../models/outbox';
import { BackgroundTask } from '../background';
import { GroupCommit } from '../db/group-commit';
import { addressHash, redactAddresses, type Logger } from '../logger';
import { LINK_NOT_SENT, LINK_SENT, moveCarriedMail, takeReleased, withoutLink } from './outbox';

export const MAIL_FROM = '"企业质量诚信倡议 登记平台 (EQI Registry)" <no-reply@eqi-registry.local>';
const MAX_ATTEMPTS = 12;
const LOCK_MS = 60_000;
/** Carried mail moved into the outbox per round trip. */
const MOVE_BATCH = 200;
/** Mail whose required document never appeared is dropped after this long. */
const REQUIRES_GRACE_MS = 10 * 60_000;

export interface MailSenderOptions {
  smtpUrl?: string;
  /** Without SMTP, messages are written here as .eml files (dev outbox). */
  outboxDir: string;
  logger: Logger;
  pollMs?: number;
}

/** Messages delivered at once (the SMTP transport pools this many connections). */
const CONCURRENCY = 8;

type OutboxUpdate = { filter: { _id: OutboxDoc['_id'] }; update: mongoose.UpdateQuery<OutboxDoc> };

/** "Sent" marks of the lanes, written together; a failed statement fails only its own mark. */
const sentMarks = new GroupCommit<OutboxUpdate>(async (marks) => {
  try {
    await Outbox.bulkWrite(
      marks.map((m) => ({ updateOne: m })),
      { ordered: false },
    );
  } catch (e) {
    if (!(e instanceof mongoose.mongo.MongoBulkWriteError)) throw e;
    const failed = ([] as mongoose.mongo.WriteError[]).concat(e.writeErrors);
    return new Map(failed.map((w) => [w.index, w]));
  }
});

export function createTransport(opts: MailSenderOptions): Transporter {
  if (opts.smtpUrl)
    return nodemailer.createTransport({
      url: opts.smtpUrl,
      pool: true,
      maxConnections: CONCURRENCY,
    });
  return nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
}

/** The claim of a message: locked for one attempt (the lock expires if this sender crashes). */
const take = (now: Date) => ({
  $set: { status: 'sending', lockedUntil: new Date(now.getTime() + LOCK_MS) },
  $inc: { attempts: 1 },
});

export class MailSender {
  private stopped = false;
  /** Mail was carried in a pledge write here since it was last moved into the outbox. */
  private carried = true;
  private readonly transport: Transporter;
  private readonly task: BackgroundTask;

  constructor(private readonly opts: MailSenderOptions) {
    this.transport = createTransport(opts);
    this.task = new BackgroundTask(
      'mail delivery',
      () => this.drain(),
      opts.pollMs ?? 2000,
      opts.logger,
    );
  }

  start(): void {
    this.stopped = false;
    this.task.start();
  }

  /** Runs a delivery pass now (coalesced with one already running). */
  poke(): void {
    this.carried = true;
    this.task.poke();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.task.stop();
    this.transport.close();
  }

  /** Delivers everything due (several at a time); returns how many were sent. */
  async drain(): Promise<number> {
    // Mail carried by other instances' writes is found here, by the periodic pass.
    this.carried = true;
    // Lanes start as work turns up: a pass over an empty outbox costs one lane's claims, not
    // CONCURRENCY lanes' worth.
    const lanes: Array<Promise<number>> = [];
    const startLane = (): void => {
      if (lanes.length >= CONCURRENCY) return;
      const lane = this.drainOne(startLane);
      lane.catch(() => undefined); // a failure is reported below, once every lane has ended
      lanes.push(lane);
    };
    startLane();
    // Lanes may start while earlier ones run: wait until none is left running.
    for (let settled = 0; settled < lanes.length;) {
      const upTo = lanes.length;
      await Promise.allSettled(lanes.slice(settled, upTo));
      settled = upTo;
    }
    const counts = await Promise.all(lanes);
    return counts.reduce((a, b) => a + b, 0);
  }

  /** One lane: claims and delivers until nothing is due; `more` starts another lane beside it. */
  private async drainOne(more: () => void): Promise<number> {
    let sent = 0;
    for (;;) {
      if (this.stopped || mongoose.connection.readyState !== mongoose.ConnectionStates.connected)
        return sent;
      // Moved as it comes, not only when a pass starts: under load a pass can run for long.
      if (this.carried) {
        this.carried = false;
        // A full batch may have left more behind.
        if ((await moveCarriedMail(MOVE_BATCH)) >= MOVE_BATCH) this.carried = true;
      }
      const released = await this.claimReleased();
      const msg = released ?? (await this.claim());
      if (!msg) return sent;
      more(); // there was work: there may be more
      if (await this.deliver(msg, Boolean(released))) sent++;
    }
  }

  /** Takes the next message released in this process (still held in the database), if any. */
  private async claimReleased(): Promise<OutboxDoc | null> {
    for (let id = takeReleased(); id; id = takeReleased()) {
      const msg = await Outbox.findOneAndUpdate(
        { _id: new mongoose.Types.ObjectId(id), status: 'pending' },
        take(new Date()),
        { returnDocument: 'after' },
      ).lean<OutboxDoc>();
      if (msg) return msg; // else cancelled, or sent by another instance after its hold
    }
    return null;
  }

  /** Takes the next due message, or one whose sender crashed mid-send (its lock expired). */
  private async claim(): Promise<OutboxDoc | null> {
    const now = new Date();
    // Two indexed queries rather than one $or, so a large outbox of sent mail is never scanned.
    return (
      (await Outbox.findOneAndUpdate(
        { status: 'pending', nextAttemptAt: { $lte: now } },
        take(now),
        { sort: { nextAttemptAt: 1 }, returnDocument: 'after' },
      ).lean<OutboxDoc>()) ??
      (await Outbox.findOneAndUpdate({ status: 'sending', lockedUntil: { $lt: now } }, take(now), {
        returnDocument: 'after',
      }).lean<OutboxDoc>())
    );
  }

  /** `released`: its state change was written by this process, so `requires` holds. */
  private async deliver(msg: OutboxDoc, released = false): Promise<boolean> {
    if (!released && msg.requires?.collection && msg.requires.id) {
      const exists = await mongoose.connection
        .db!.collection(msg.requires.collection)
        .countDocuments({ _id: msg.requires.id }, { limit: 1 });
      if (!exists) {
        const tooOld = Date.now() - new Date(msg.createdAt).getTime() > REQUIRES_GRACE_MS;
        await Outbox.updateOne(
          { _id: msg._id },
          tooOld
            ? {
                $set: {
                  status: 'dropped',
                  lastError: 'the record this mail belongs to was never created',
                  ...withoutLink(msg, LINK_NOT_SENT),
                },
                $unset: { link: 1 },
              }
            : { $set: { status: 'pending', nextAttemptAt: new Date(Date.now() + 1000) } },
        );
        return false;
      }
    }
    try {
      const info = await this.transport.sendMail({
        from: MAIL_FROM,
        to: msg.to,
        subject: msg.subject,
        text: msg.text,
        html: msg.html ?? undefined,
      });
      if (!this.opts.smtpUrl) this.writeDevCopy(msg, info.message as Buffer);
      // The stored copy keeps no usable link: a database reader must not be able to sign in.
      // The lanes' marks are group-committed (one write for those sent meanwhile).
      await sentMarks.add({
        filter: { _id: msg._id },
        update: {
          $set: {
            status: 'sent',
            sentAt: new Date(),
            messageId: info.messageId,
            ...withoutLink(msg, LINK_SENT),
          },
          $unset: { lockedUntil: 1, link: 1 },
        },
      });
      return true;
    } catch (e) {
      const attempts = msg.attempts ?? 1;
      const giveUp = attempts >= MAX_ATTEMPTS;
      // Exponential backoff from 5 s to about an hour: an SMTP outage delays mail, never loses it.
      const delay = Math.min(3600_000, 5000 * 2 ** (attempts - 1));
      // SMTP errors often quote the recipient ("550 <x@y>: unknown user"): logs get a hash only.
      const err = redactAddresses((e as Error).message);
      this.opts.logger.warn(
        { mail: String(msg._id), toHash: addressHash(msg.to), attempts, err },
        giveUp ? 'mail delivery failed for good' : 'mail delivery failed; will retry',
      );
      const status = giveUp ? 'dropped' : 'pending';
      await Outbox.updateOne(
        { _id: msg._id },
        giveUp
          ? {
              $set: {
                status,
                lastError: err,
                nextAttemptAt: new Date(Date.now() + delay),
                ...withoutLink(msg, LINK_NOT_SENT),
              },
              $unset: { lockedUntil: 1, link: 1 },
            }
          : {
              $set: { status, lastError: err, nextAttemptAt: new Date(Date.now() + delay) },
              $unset: { lockedUntil: 1 },
            },
      );
      return false;
    }
  }

  private writeDevCopy(msg: OutboxDoc, raw: Buffer): void {
    fs.mkdirSync(this.opts.outboxDir, { recursive: true });
    const file = path.join(
      this.opts.outboxDir,
      `${new Date().toISOString().replace(/[:.]/g, '-')}-${String(msg._id)}.eml`,
    );
    fs.writeFileSync(file, raw);
    // Never the link itself, at any level: whoever reads logs could sign in with it.
    this.opts.logger.info(
      { mail: String(msg._id), toHash: addressHash(msg.to), file },
      'dev mail written to the outbox folder (no SMTP_URL); any link is in the .eml file, not in this log',
    );
  }
}
