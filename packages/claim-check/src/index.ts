export { type RedisBlobClient, RedisBlobStore, type RedisBlobStoreOptions, redisBlobStore } from './redis-blob-store.js'
