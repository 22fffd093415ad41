// A subpath of its own, so that importing the Redis store never loads @aws-sdk/client-s3.
export { S3BlobStore, type S3BlobStoreOptions, s3BlobStore } from './s3-blob-store.js'
