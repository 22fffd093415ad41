import type { Logger } from '@anymq/core/spi'

/**
 * Runs the consumer's revoke step (`DriverConsumerOptions.onRevoking`) before a driver sends its
 * JoinGroup, for at most half the rebalance timeout: the broker waits that long for every member to
 * rejoin, and a member later than that is dropped from the group. A handler that runs longer than
 * this leaves its record uncommitted; the partition's next owner reads it again (at-least-once).
 */
export async function revokeBeforeRejoin(onRevoking: () => Promise<void>, rebalanceTimeoutMs: number, logger: Logger, groupId: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), rebalanceTimeoutMs / 2)
    timer.unref()
  })
  try {
    const outcome = await Promise.race([onRevoking().then(() => 'done' as const), late])
    if (outcome === 'late')
      logger.debug(`group '${groupId}': rejoining before every handler finished (${rebalanceTimeoutMs / 2} ms): their records may be read again`)
  } catch (error) {
    logger.debug(`group '${groupId}': committing before rejoining failed: ${String(error)}`)
  } finally {
    clearTimeout(timer)
  }
}
