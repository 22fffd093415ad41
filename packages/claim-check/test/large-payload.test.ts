import { createHash, randomBytes } from 'node:crypto'
import { adapter as awsAdapter } from '@anymq/aws'
import { brokerUrl } from '@anymq/conformance'
import { type BlobStore, connect } from '@anymq/core'
import { adapter as kafkaAdapter } from '@anymq/kafka'
import { adapter as memoryAdapter } from '@anymq/memory'
import { S3Client } from '@aws-sdk/client-s3'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { RedisBlobStore } from '../src/index.js'
import { S3BlobStore } from '../src/s3.js'

const sqsUrl = brokerUrl('ANYMQ_SQS_URL')
const kafkaUrl = brokerUrl('ANYMQ_KAFKA_URL')
const redisUrl = brokerUrl('ANYMQ_REDIS_URL')
/** `pnpm test` sends 2 MB (8× SQS's limit, 2× Kafka's); `pnpm test:claim-check` sends the 50 MB the issue asks for. */
const megabytes = Number(process.env.ANYMQ_CLAIM_CHECK_MB ?? 2)

const unique = (what: string) => `cc-${what}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

function s3Store(): S3BlobStore {
  // moto serves S3 on the SQS port (scripts/brokers.sh runs one moto server for every AWS service).
  const endpoint = new URL(sqsUrl!.replace(/^sqs:/, 'http:')).searchParams.get('endpoint')!
  const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } })
  return new S3BlobStore({ client, bucket: unique('bucket') })
}

async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** Sends one body of `megabytes` through the broker with the claim check, and checks it arrives whole and its blob is gone after the ack. */
async function roundTrip(url: string, adapter: Parameters<typeof connect>[1], store: BlobStore): Promise<void> {
  const mq = await connect(url, adapter)
  try {
    const prefix = `${unique('run')}/`
    const queue = mq.queue<Uint8Array>(unique('large'), { codec: 'raw', claimCheck: { store, prefix } })
    const body = randomBytes(megabytes * 1_048_576)
    expect(body.byteLength).toBeGreaterThan(mq.capabilities.maxMessageBytes)
    const received: Uint8Array[] = []
    const subscription = queue.consume((message) => void received.push(message.body))
    await subscription.ready
    const started = performance.now()
    await queue.send(body)
    await waitFor(() => subscription.counts.acked === 1, 120_000, 'the large message')
    const elapsed = performance.now() - started
    expect(received).toHaveLength(1)
    expect(received[0]!.byteLength).toBe(body.byteLength)
    expect(sha256(received[0]!)).toBe(sha256(body))
    await waitFor(async () => (await store.list(prefix)).length === 0, 20_000, 'the blob to be deleted after the ack')
    console.info(`claim check: ${megabytes} MB through ${mq.adapter} in ${Math.round(elapsed)} ms (send to ack)`)
  } finally {
    await mq.close()
  }
}

describe.skipIf(!sqsUrl)('claim check on S3 (moto)', () => {
  it(`carries a ${megabytes} MB body through SQS (256 KiB limit)`, async () => {
    const store = s3Store()
    await store.createBucket()
    await roundTrip(sqsUrl!, { adapter: awsAdapter }, store)
  }, 180_000)

  it.skipIf(!kafkaUrl)(
    `carries a ${megabytes} MB body through Kafka (1 MB limit)`,
    async () => {
      const store = s3Store()
      await store.createBucket()
      await roundTrip(kafkaUrl!, { adapter: kafkaAdapter }, store)
    },
    180_000,
  )

  it('keeps the blob-store contract: absent key, list by prefix, idempotent delete; S3 errors are ConnectionError', async () => {
    const store = s3Store()
    await store.createBucket()
    await store.createBucket()
    expect(await store.get('anymq/none')).toBeUndefined()
    await store.put('anymq/a/1', new Uint8Array([1, 2, 3]))
    await store.put('anymq/b/1', new Uint8Array([4]))
    expect(await store.get('anymq/a/1')).toEqual(new Uint8Array([1, 2, 3]))
    expect(await store.list('anymq/a/')).toEqual(['anymq/a/1'])
    await store.delete('anymq/a/1')
    await store.delete('anymq/a/1')
    expect(await store.list('anymq/')).toEqual(['anymq/b/1'])
    const missing = new S3BlobStore({ client: (store as unknown as { client: S3Client }).client, bucket: unique('absent') })
    await expect(missing.put('k', new Uint8Array([1]))).rejects.toMatchObject({ code: 'ERR_CONNECTION', adapter: 'claim-check' })
  })
})

describe.skipIf(!redisUrl)('claim check on Redis', () => {
  const redis = redisUrl ? new Redis(redisUrl.replace(/^redis:/, 'redis:')) : undefined
  afterAll(async () => {
    await redis?.quit()
  })

  it('keeps the blob-store contract with binary bodies, and lists only its own prefix', async () => {
    const store = new RedisBlobStore({ redis: redis!, keyPrefix: `${unique('redis')}:` })
    const bytes = new Uint8Array([0, 255, 10, 13, 0])
    await store.put('anymq/blobs/x', bytes)
    await store.put('anymq/expiry/000000000000001/anymq/blobs/x', new Uint8Array())
    expect(await store.get('anymq/blobs/x')).toEqual(bytes)
    expect((await store.list('anymq/')).sort()).toEqual(['anymq/blobs/x', 'anymq/expiry/000000000000001/anymq/blobs/x'])
    expect(await store.list('anymq/blobs/')).toEqual(['anymq/blobs/x'])
    await store.delete('anymq/blobs/x')
    expect(await store.get('anymq/blobs/x')).toBeUndefined()
  })

  // Through memory:// (1 MiB limit): the store is under test here, the brokers are in the S3 cases.
  it('carries a body over the broker’s limit through a Redis blob store', async () => {
    await roundTrip('memory://claim-check-redis', { adapter: memoryAdapter }, new RedisBlobStore({ redis: redis!, keyPrefix: `${unique('redis')}:` }))
  }, 180_000)
})
