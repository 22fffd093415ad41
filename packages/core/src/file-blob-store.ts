import { randomUUID } from 'node:crypto'
import type { Dirent } from 'node:fs'
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { dirname, join, relative, sep } from 'node:path'
import type { BlobStore } from './blob-store.js'

/** Options of {@link FileBlobStore}. */
export interface FileBlobStoreOptions {
  /** Directory the blobs are written under (created when missing). Shared by every process that reads them. */
  directory: string
}

/**
 * A {@link BlobStore} on the local filesystem (or a shared mount): one file per key under `directory`.
 * A blob is written to a temporary name and renamed, so a reader never sees half a body.
 */
export class FileBlobStore implements BlobStore {
  private readonly directory: string

  constructor(options: FileBlobStoreOptions) {
    this.directory = options.directory
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    const path = this.path(key)
    await mkdir(dirname(path), { recursive: true })
    const temporary = `${path}.${randomUUID()}.partial`
    await writeFile(temporary, bytes)
    await rename(temporary, path)
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      return new Uint8Array(await readFile(this.path(key)))
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw error
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.path(key), { force: true })
  }

  async list(prefix: string): Promise<string[]> {
    let entries: Dirent[]
    try {
      entries = await readdir(this.directory, { recursive: true, withFileTypes: true })
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
      throw error
    }
    return entries
      .filter((entry) => entry.isFile())
      .map((entry) => relative(this.directory, join(entry.parentPath, entry.name)).split(sep).join('/'))
      .filter((key) => key.startsWith(prefix) && !key.endsWith('.partial'))
  }

  private path(key: string): string {
    if (!/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(key) || key.split('/').some((segment) => segment === '..' || segment === '.'))
      throw new Error(`[anymq] [core] blob key '${key}' is not a path of [A-Za-z0-9._-] segments`)
    return join(this.directory, ...key.split('/'))
  }
}
