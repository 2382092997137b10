/**
 * Every QR scan is a lookup, so found certificate records are cached for a moment. A status
 * change made on this instance forgets the entry at once; other instances show it within
 * LOOKUP_CACHE_MS. One cache per certificate service (per app), never shared between apps.
 */
import type { CertificateDoc } from '../../models/certificate';
import { TtlCache } from '../ttl-cache';

export const LOOKUP_CACHE_MS = 1000;

export type LookupCache = TtlCache<CertificateDoc>;

export function createLookupCache(): LookupCache {
  return new TtlCache<CertificateDoc>(LOOKUP_CACHE_MS);
}
