/**
 * Requests never talk to SMTP: they queue mail here, written before the state change it belongs
 * to and tied to it by `requires`, so a crash between the two writes can neither lose the mail
 * nor send a link to something that was never created (the sender drops such mail).
 */
import type { Types } from 'mongoose';
import { Outbox } from '../../models/outbox';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html?: string;
}

export interface MailQueue {
  enqueue(msg: MailMessage, requires?: { collection: string; id: Types.ObjectId }): Promise<Types.ObjectId>;
  /** Drops a queued mail whose state change did not happen (e.g. the insert hit a duplicate). */
  cancel(id: Types.ObjectId): Promise<void>;
  /** Tells the sender that mail queued with `requires` may now go (its state change is written). */
  notify(): void;
}

export function createMailQueue(onEnqueued: () => void = () => {}): MailQueue {
  return {
    async enqueue(msg, requires) {
      const doc = await Outbox.create({ ...msg, requires, status: 'pending', nextAttemptAt: new Date() });
      // Mail tied to a state change waits for notify(): sent now, it would find nothing yet.
      if (!requires) onEnqueued();
      return doc._id;
    },
    notify: onEnqueued,
    async cancel(id) {
      await Outbox.updateOne({ _id: id, status: 'pending' }, { $set: { status: 'dropped', lastError: 'cancelled: the state change failed' } });
    },
  };
}
