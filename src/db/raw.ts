/**
 * Writes on the signing path go to the driver's collections directly: mongoose's casting and
 * query building cost more CPU than the round trip itself there. These helpers give such a
 * write what mongoose would have added, so the stored documents stay the same.
 */
import type { mongo } from 'mongoose';

/** The driver's collection under a mongoose model, typed as the documents it stores. */
export function rawCollection<T extends mongo.Document>(model: {
  collection: unknown;
}): mongo.Collection<T> {
  return model.collection as mongo.Collection<T>;
}

/** `o` without its undefined fields (mongoose drops them; the driver would store null). */
export function defined<T extends Record<string, unknown>>(o: T): Partial<T> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as Partial<T>;
}
