/**
 * Whether `work` settles (resolves or rejects) within `ms`. The work is not cancelled either way, and
 * its rejection is left to the caller, who awaits `work` itself when this says it settled. For an
 * adapter's close: a broker that keeps the connection open and stops answering would hold it for good.
 */
export function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms)
  })
  const settled = work.then(
    () => true,
    () => true,
  )
  return Promise.race([settled, late]).finally(() => clearTimeout(timer))
}
