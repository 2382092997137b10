/**
 * Prometheus metrics for GET /metrics. One registry per process (Prometheus scrapes processes),
 * so several apps built in one process (tests) share it.
 *
 * - Per process: HTTP request durations by route pattern and status, rate-limit rejections,
 *   Node's default metrics (event-loop lag, heap, GC).
 * - Collected from the database on scrape, so the figures are the registry's (the same from
 *   every instance, surviving restarts; aggregate with `max`, not `sum`): pledges by status,
 *   certificates by status (issued = all of them, nothing is deleted; revoked = status
 *   "revoked"), queue depths, and the store's ping round trip. Each is an indexed count, and
 *   one set of counts serves every scrape within COLLECT_TTL_MS.
 */
import client from 'prom-client';
import { CertificateStatus, Certificate } from '../../models/certificate';
import { Event } from '../../models/event';
import { Outbox } from '../../models/outbox';
import { Pledge, PledgeStatus } from '../../models/pledge';
import { pingDatabase } from '../db';

const COLLECT_TTL_MS = 5_000;

export interface Metrics {
  readonly registry: client.Registry;
  readonly httpDuration: client.Histogram<'method' | 'route' | 'status'>;
  readonly rateLimitRejections: client.Counter<'route'>;
}

interface StoreFigures {
  pledges: Record<string, number>;
  certificates: Record<string, number>;
  queues: { mail: number; certificates: number; audit_sequencing: number };
  pingSeconds: number | null;
}

let metrics: Metrics | undefined;
let figures: { at: number; value: Promise<StoreFigures | null> } | undefined;

async function countStore(): Promise<StoreFigures | null> {
  const ping = await pingDatabase(1000);
  if (!ping.ok) return null;
  const countBy = async <S extends string>(
    statuses: readonly S[],
    count: (s: S) => Promise<number>,
  ) =>
    Object.fromEntries(await Promise.all(statuses.map(async (s) => [s, await count(s)] as const)));
  const [pledges, certificates, queues] = await Promise.all([
    countBy(Object.values(PledgeStatus), (status) => Pledge.countDocuments({ status })),
    countBy(Object.values(CertificateStatus), (status) => Certificate.countDocuments({ status })),
    queueDepths(),
  ]);
  return { pledges, certificates, queues, pingSeconds: ping.latencyMs / 1000 };
}

/**
 * Work waiting, wherever it waits: mail and audit events are first carried on the pledge they
 * belong to (in the transition's own write) and only later moved to the outbox and the events
 * collection, so both places count.
 */
export async function queueDepths(): Promise<StoreFigures['queues']> {
  const [outbox, carried, certificates, unsealed] = await Promise.all([
    Outbox.countDocuments({ status: { $in: ['pending', 'sending'] } }),
    carriedOnPledges(),
    Pledge.countDocuments({ needsCertificate: true }),
    Event.countDocuments({ unsealed: true }),
  ]);
  return {
    mail: outbox + carried.mail,
    certificates,
    audit_sequencing: unsealed + carried.events,
  };
}

async function carriedOnPledges(): Promise<{ mail: number; events: number }> {
  // Each side reads only the pledges its sparse index holds (those with something carried).
  const sum = async (field: 'mail' | 'pendingEvents'): Promise<number> => {
    const [r] = await Pledge.aggregate<{ n: number }>([
      { $match: { [`${field}._id`]: { $exists: true } } },
      { $group: { _id: null, n: { $sum: { $size: `$${field}` } } } },
    ]);
    return r?.n ?? 0;
  };
  const [mail, events] = await Promise.all([sum('mail'), sum('pendingEvents')]);
  return { mail, events };
}

/** The counts, shared by concurrent and closely spaced scrapes; null when the store is down. */
function storeFigures(): Promise<StoreFigures | null> {
  if (!figures || Date.now() - figures.at > COLLECT_TTL_MS) {
    figures = { at: Date.now(), value: countStore().catch(() => null) };
  }
  return figures.value;
}

/** Forgets the cached counts (tests read fresh figures after a change). */
export function resetStoreFigures(): void {
  figures = undefined;
}

export function getMetrics(): Metrics {
  if (metrics) return metrics;
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });

  const httpDuration = new client.Histogram({
    name: 'eqi_http_request_duration_seconds',
    help: 'HTTP requests by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const rateLimitRejections = new client.Counter({
    name: 'eqi_rate_limit_rejections_total',
    help: 'Requests refused with 429 by a rate limit, by route pattern',
    labelNames: ['route'] as const,
    registers: [registry],
  });

  new client.Gauge({
    name: 'eqi_store_up',
    help: '1 when the database answered the last scrape’s ping',
    registers: [registry],
    async collect() {
      this.set((await storeFigures()) ? 1 : 0);
    },
  });
  new client.Gauge({
    name: 'eqi_store_ping_seconds',
    help: 'Round trip of a ping to the database at the last scrape',
    registers: [registry],
    async collect() {
      const f = await storeFigures();
      if (f?.pingSeconds != null) this.set(f.pingSeconds);
    },
  });
  new client.Gauge({
    name: 'eqi_pledges',
    help: 'Pledges in the registry by status',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      const f = await storeFigures();
      for (const [status, n] of Object.entries(f?.pledges ?? {})) this.set({ status }, n);
    },
  });
  new client.Gauge({
    name: 'eqi_certificates',
    help: 'Certificates ever issued, by current status (revoked ones have status "revoked")',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      const f = await storeFigures();
      for (const [status, n] of Object.entries(f?.certificates ?? {})) this.set({ status }, n);
    },
  });
  new client.Gauge({
    name: 'eqi_queue_depth',
    help: 'Work waiting: mail to deliver, certificates to issue, audit events to sequence into the chain',
    labelNames: ['queue'] as const,
    registers: [registry],
    async collect() {
      const f = await storeFigures();
      for (const [queue, n] of Object.entries(f?.queues ?? {})) this.set({ queue }, n);
    },
  });

  metrics = { registry, httpDuration, rateLimitRejections };
  return metrics;
}
