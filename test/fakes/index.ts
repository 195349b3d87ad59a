/**
 * Hand-written fakes for the shim's service tier (tier b): they implement the consumer interfaces of
 * src/sandbox/types.ts and the EventPublisher of src/shim/events. Test-only; never imported by src/.
 */
export { FakeGuestProcess } from './guest-process.js';
export type { FakeGuestProcessOptions } from './guest-process.js';
export { FakeGuestContainer } from './guest-container.js';
export { FakeSandbox, FakeSandboxFactory } from './sandbox.js';
export { RecordingPublisher } from './event-publisher.js';
export { silentLogger } from './silent-logger.js';
export { FakeTaskLogic } from './task-logic.js';
export type { FakeAnswers, RecordedCall } from './task-logic.js';
export { captureLogger } from './capture-logger.js';
