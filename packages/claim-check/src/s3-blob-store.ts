import { type BlobStore, ConnectionError } from '@anymq/core'
import { nameCheck, ofType, required, validateOptions } from '@anymq/core/spi'
import { CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3'

export interface S3BlobStoreOptions {
  /** An `S3Client` from `@aws-sdk/client-s3`, configured with region, credentials and (for moto, MinIO…) `endpoint` + `forcePathStyle`. */
  client: S3Client
  /** The bucket the bodies go to. Give it a lifecycle rule as a backstop for bodies nobody sweeps. */
  bucket: string
}

/**
 * A claim-check {@link BlobStore} on Amazon S3 or any S3 API. One object per body, written with a
 * single PUT (S3 takes up to 5 GB that way). Errors reaching S3 are `ConnectionError` (retryable), so
 * the consumer's retry policy applies; they name the bucket and key, never a credential.
 */
export class S3BlobStore implements BlobStore {
  private readonly client: S3Client
  private readonly bucket: string

  constructor(options: S3BlobStoreOptions) {
    validateOptions(options, { client: required(ofType('object', 'an S3Client')), bucket: required(nameCheck) }, 's3 blob store options', 'claim-check')
    this.client = options.client
    this.bucket = options.bucket
  }

  /** Creates the bucket; resolves when it exists already. For tests and emulators; provision real buckets with your infrastructure code. */
  async createBucket(): Promise<void> {
    try {
      await this.client.send(new CreateBucketCommand({ Bucket: this.bucket }))
    } catch (error) {
      const name = (error as Error).name
      if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw this.failure('create the bucket', error)
    }
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: bytes, ContentLength: bytes.byteLength }))
    } catch (error) {
      throw this.failure(`write '${key}'`, error)
    }
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      const object = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }))
      return object.Body ? await object.Body.transformToByteArray() : new Uint8Array()
    } catch (error) {
      if ((error as Error).name === 'NoSuchKey') return undefined
      throw this.failure(`read '${key}'`, error)
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }))
    } catch (error) {
      throw this.failure(`delete '${key}'`, error)
    }
  }

  async list(prefix: string): Promise<string[]> {
    const keys: string[] = []
    let token: string | undefined
    try {
      do {
        const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }))
        for (const object of page.Contents ?? []) if (object.Key !== undefined) keys.push(object.Key)
        token = page.IsTruncated ? page.NextContinuationToken : undefined
      } while (token !== undefined)
    } catch (error) {
      throw this.failure(`list '${prefix}'`, error)
    }
    return keys
  }

  private failure(what: string, error: unknown): ConnectionError {
    return new ConnectionError(`could not ${what} in S3 bucket '${this.bucket}': ${(error as Error).name}`, { adapter: 'claim-check', cause: error })
  }
}

/** An {@link S3BlobStore}. */
export function s3BlobStore(options: S3BlobStoreOptions): S3BlobStore {
  return new S3BlobStore(options)
}
