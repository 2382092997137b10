/**
 * A group commit: while one write is under way, the items added meanwhile wait and leave
 * together in the next one, so concurrent callers share a round trip while a lone caller writes
 * at once (no timer, no added latency). Each caller's promise settles when its own item's write
 * has: `write` returns the items' own errors by index (a bulk write's failed statements), and a
 * thrown error fails the whole batch.
 */
export class GroupCommit<T> {
  private waiting: Array<{ item: T; resolve: () => void; reject: (e: unknown) => void }> = [];
  private writing = false;

  constructor(
    private readonly write: (items: T[]) => Promise<ReadonlyMap<number, unknown> | void>,
  ) {}

  add(item: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      if (!this.writing) void this.writeWaiting();
    });
  }

  private async writeWaiting(): Promise<void> {
    this.writing = true;
    try {
      while (this.waiting.length) {
        const batch = this.waiting;
        this.waiting = [];
        try {
          const failed = await this.write(batch.map((w) => w.item));
          batch.forEach((w, i) => (failed?.has(i) ? w.reject(failed.get(i)) : w.resolve()));
        } catch (e) {
          for (const w of batch) w.reject(e);
        }
      }
    } finally {
      this.writing = false;
    }
  }
}
