/**
 * Where the claim check keeps large message bodies (`queue(name, { claimCheck: { store } })`). Core
 * ships {@link FileBlobStore} and {@link MemoryBlobStore}; `@anymq/claim-check` has S3 and Redis.
 *
 * Contract: keys are `/`-separated paths of `[A-Za-z0-9._-]` segments. `put` resolves once the bytes
 * are durable in the store (a later `get` from any process sees them); `get` resolves `undefined` for a
 * key never written or deleted; `delete` of an absent key resolves; `list(prefix)` resolves every key
 * starting with `prefix` (in no particular order). Errors reaching the store reject (and are retried
 * by the consumer's retry policy); an error never contains a credential.
 */
export interface BlobStore {
  put(key: string, bytes: Uint8Array): Promise<void>
  get(key: string): Promise<Uint8Array | undefined>
  delete(key: string): Promise<void>
  list(prefix: string): Promise<string[]>
}
