/**
 * A periodic background task that can also be woken early: runs never overlap, a wake-up
 * during a run schedules one more run, and stop() waits for the current run to finish.
 */
import type { Logger } from './logger';
import { outsideRequest } from './request-context';

export class BackgroundTask {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = true;

  constructor(
    private readonly name: string,
    private readonly run: () => Promise<unknown>,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.stopped = false;
    const tick = (): void => {
      this.poke();
      if (!this.stopped) this.timer = setTimeout(tick, this.intervalMs).unref();
    };
    tick();
  }

  /** Runs now, or right after the current run. */
  poke(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    // Woken from a request, the run is still not that request's (its logs and commands).
    this.running = outsideRequest(() => this.run())
      .then(() => undefined)
      .catch((err) => this.logger.error({ err }, `${this.name} failed`))
      .finally(() => {
        this.running = null;
        if (this.again && !this.stopped) {
          this.again = false;
          this.poke();
        }
      });
  }

  /** Waits for the run in progress, if any (for tests and shutdown). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.idle();
  }
}
