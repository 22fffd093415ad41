import type { BlobStore } from './blob-store.js'

/** A {@link BlobStore} in this process's memory: for tests, and for the `memory://` broker. */
export class MemoryBlobStore implements BlobStore {
  private readonly blobs = new Map<string, Uint8Array>()

  async put(key: string, bytes: Uint8Array): Promise<void> {
    this.blobs.set(key, bytes.slice())
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    return this.blobs.get(key)
  }

  async delete(key: string): Promise<void> {
    this.blobs.delete(key)
  }

  async list(prefix: string): Promise<string[]> {
    return [...this.blobs.keys()].filter((key) => key.startsWith(prefix))
  }
}
