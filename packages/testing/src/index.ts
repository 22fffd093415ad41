export { type HandlerSpy, spy } from './spy.js'
export { type ChaosOptions, createTestBroker, type SentMessage, type TestBroker } from './test-broker.js'
export { type Until, type UntilOptions, UntilTimeoutError } from './until.js'
