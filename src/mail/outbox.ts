/**
 * Requests never talk to SMTP: they queue mail here, either carried in the state change's own
 * write (`mail` on a pledge: one round trip, and the mail exists exactly when the change does;
 * the sender moves it into the outbox, see moveCarriedMail), or written before the state change
 * and tied to it by `requires`, so a crash between the two writes can neither lose the mail
 * nor send a link to something that was never created (the sender drops such mail).
 */
import { Types, mongo } from 'mongoose';
import { Outbox } from '../../models/outbox';
import { Pledge, type CarriedMail } from '../../models/pledge';
import { escapeHtml } from '../text/html';
import { rawCollection } from '../db/raw';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html?: string;
  /**
   * A single-use link that `text` and `html` carry (sign-in, confirmation). Once the mail is
   * sent or dropped it is cut out of the stored copy, so the outbox keeps no usable link.
   */
  link?: string;
}

export const LINK_SENT = '[link removed after sending]';
export const LINK_NOT_SENT = '[link removed: mail not sent]';

/** The stored text and html with the message's secret link replaced by `marker`. */
export function withoutLink(
  msg: { text: string; html?: string | null; link?: string | null },
  marker: string,
): { text: string; html?: string } {
  const html = msg.html ?? undefined;
  if (!msg.link) return { text: msg.text, html };
  const cut = (s: string, link: string) => s.split(link).join(marker);
  return {
    text: cut(msg.text, msg.link),
    html: html === undefined ? undefined : cut(cut(html, escapeHtml(msg.link)), msg.link),
  };
}

export interface MailQueue {
  enqueue(
    msg: MailMessage,
    requires?: { collection: string; id: Types.ObjectId },
  ): Promise<Types.ObjectId>;
  /** Drops a queued mail whose state change did not happen (e.g. the insert hit a duplicate). */
  cancel(id: Types.ObjectId): Promise<void>;
  /** Lets mail queued with `requires` go now that its state change is written. */
  release(id: Types.ObjectId): Promise<void>;
  /** The mail for a pledge write to carry (`mail: [..]`), its outbox id fixed now. */
  carry(msg: MailMessage): CarriedMail;
  /** Tells the sender that a write carrying mail happened (it moves and delivers it). */
  carried(): void;
}

/**
 * Mail tied to a state change is queued with a delay and released as soon as the change is
 * written. Sent earlier it would find nothing yet; if the process dies before releasing it,
 * the delay runs out and the sender checks `requires` itself.
 */
export const HOLD_MS = 30_000;

/**
 * Mail released in this process: its state change is written, so a sender here takes it at once
 * and needs no `requires` check. Kept in memory rather than written (no round trip per mail):
 * lost with the process, such mail simply waits out its hold.
 */
const released = new Set<string>();
const RELEASED_MAX = 10_000;

/** The next mail released in this process (for the sender), if any. */
export function takeReleased(): string | undefined {
  const first = released.values().next();
  if (first.done) return undefined;
  released.delete(first.value);
  return first.value;
}

export function createMailQueue(onEnqueued: () => void = () => {}): MailQueue {
  return {
    async enqueue(msg, requires) {
      const doc = await Outbox.create({
        ...msg,
        requires,
        status: 'pending',
        nextAttemptAt: new Date(Date.now() + (requires ? HOLD_MS : 0)),
      });
      if (!requires) onEnqueued();
      return doc._id;
    },
    async release(id) {
      if (released.size >= RELEASED_MAX) {
        // Nobody here is sending (no sender running): let it go through the database instead.
        await Outbox.updateOne(
          { _id: id, status: 'pending' },
          { $set: { nextAttemptAt: new Date() } },
        );
      } else released.add(String(id));
      onEnqueued();
    },
    carry(msg) {
      return { _id: new Types.ObjectId(), ...msg };
    },
    carried() {
      onEnqueued();
    },
    async cancel(id) {
      const msg = await Outbox.findOne({ _id: id, status: 'pending' }).lean();
      if (!msg) return;
      await Outbox.updateOne(
        { _id: id, status: 'pending' },
        {
          $set: {
            status: 'dropped',
            lastError: 'cancelled: the state change failed',
            ...withoutLink(msg, LINK_NOT_SENT),
          },
          $unset: { link: 1 },
        },
      );
    },
  };
}

interface MailCarrier {
  _id: Types.ObjectId;
  mail?: CarriedMail[];
}

/**
 * Moves mail carried on pledges into the outbox, due now (the pledge it belongs to exists, so
 * there is nothing to wait for); returns how many. Each mail keeps the id it was carried with, so
 * a pass that dies half-way, or two passes at once, queue it once (a repeat is a duplicate
 * `_id`, ignored): never lost, never sent twice. Removed from the pledge only once queued, so
 * the pledge holds the link no longer than that.
 */
export async function moveCarriedMail(limit = 200): Promise<number> {
  const pledges = rawCollection<MailCarrier>(Pledge);
  const carriers = await pledges
    .find({ 'mail._id': { $exists: true } }, { projection: { mail: 1 } })
    .limit(limit)
    .toArray();
  const mails = carriers.flatMap((p) => p.mail ?? []);
  if (mails.length === 0) return 0;
  const now = new Date();
  try {
    // The driver's collection: mongoose would cast and stamp nothing we do not set here.
    await Outbox.collection.insertMany(
      mails.map((m) => ({
        _id: m._id,
        to: m.to,
        subject: m.subject,
        text: m.text,
        ...(m.html !== undefined ? { html: m.html } : {}),
        ...(m.link !== undefined ? { link: m.link } : {}),
        status: 'pending',
        attempts: 0,
        nextAttemptAt: now,
        createdAt: now,
        updatedAt: now,
      })),
      { ordered: false },
    );
  } catch (e) {
    const errors = e instanceof mongo.MongoBulkWriteError ? [e.writeErrors].flat() : null;
    if (!errors || errors.length === 0 || errors.some((w) => w.code !== 11000)) throw e;
  }
  await pledges.bulkWrite(
    carriers.flatMap((p) => [
      {
        updateOne: {
          filter: { _id: p._id },
          update: { $pull: { mail: { _id: { $in: (p.mail ?? []).map((m) => m._id) } } } },
        },
      },
      {
        updateOne: {
          filter: { _id: p._id, mail: { $size: 0 } },
          update: { $unset: { mail: 1 } },
        },
      },
    ]),
    { ordered: true },
  );
  return mails.length;
}
