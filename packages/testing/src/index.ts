import './provided-context.ts';

export { createTestDatabase, uniqueName, type TestDatabase } from './database.ts';
export { databaseUrl } from './template.ts';
export { startInfrastructure, type Infrastructure } from './infrastructure.ts';
export { sandboxControl, startMetaSandbox, submitConsent } from './meta-sandbox.ts';
export { createLogCapture } from './logs.ts';
export { eventually } from './eventually.ts';
export { addMember } from './members.ts';
export { kafkaTestEnvironment, observeTopic, testTopic, type Observed, type TopicObserver } from './kafka.ts';
export { openStream, startReceiver, verifiesPerSpec, type Received, type SseMessage } from './live-events.ts';
