/**
 * Requests never talk to SMTP: they queue mail here, written before the state change it belongs
 * to and tied to it by `requires`, so a crash between the two writes can neither lose the mail
 * nor send a link to something that was never created (the sender drops such mail).
 */
import type { Types } from 'mongoose';
import { Outbox } from '../../models/outbox';
import { escapeHtml } from '../text/html';

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
