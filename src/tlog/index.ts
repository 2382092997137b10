/**
 * The transparency log's pure core (issue #13), each module one spec:
 * - merkle.ts      RFC 9162 §2.1 hashing, inclusion and consistency proofs
 * - tiles.ts       C2SP tlog-tiles: tile paths, tile contents, entry bundles, tile-backed reader
 * - note.ts        C2SP signed-note with Ed25519: keys, signing, verifying
 * - checkpoint.ts  C2SP tlog-checkpoint: the signed tree head
 * - entry.ts       RFC 8785 canonical JSON entries and their schema
 * - status-list.ts W3C Bitstring Status List v1.0: the revocation bitstring
 * No I/O here: storage, sequencing and HTTP serving build on these.
 */
export * from './merkle';
export * from './tiles';
export * from './note';
export * from './checkpoint';
export * from './entry';
export * from './status-list';
