export { type FakeClock, installFakeClock } from './fake-clock.js'
export { type HandlerSpy, spy } from './spy.js'
export { type ChaosOptions, createTestBroker, type SentMessage, type TestBroker } from './test-broker.js'
export { type Until, type UntilOptions, UntilTimeoutError } from './until.js'
