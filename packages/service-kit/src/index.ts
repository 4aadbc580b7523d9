export { databasePlugin, type DatabasePluginOptions } from './database.ts';
export { healthPlugin, type HealthOptions, type Readiness, type ReadinessCheck } from './health.ts';
export { REDACT_PATHS, loggerOptions, type LoggerSettings } from './logger.ts';
export { metricsPlugin, type MetricsOptions } from './metrics.ts';
export { PROBLEM_CONTENT_TYPE, ProblemError, problemPlugin, problemServerOptions, sendProblem, type ProblemDetails } from './problem.ts';
export { runServer, type ServerSettings } from './server.ts';
export { serviceKit, type ServiceKitOptions } from './service.ts';
export {
  childTraceContext,
  formatTraceparent,
  parseTraceparent,
  traceContextPlugin,
  type TraceContext,
} from './trace-context.ts';
export { kafkaPlugin, type KafkaPluginOptions } from './kafka.ts';
export { zodSchemasPlugin } from './zod.ts';
export { graphPlugin, outboxRelayPlugin, workerDatabasePlugin, type OutboxRelayPluginOptions, type WorkerDatabaseOptions } from './workers.ts';
export { inboxConsumer, type InboxConsumerOptions } from './consumer.ts';
export {
  createRunGate,
  createTimedWorker,
  forEachBounded,
  pruneOnce,
  pruningPlugin,
  timedWorkerPlugin,
  withPassLock,
  workerMetrics,
  type PassResult,
  type PruneTarget,
  type PruningOptions,
  type TimedWorker,
  type TimedWorkerOptions,
  type TimedWorkerPluginOptions,
  type WorkerMetrics,
} from './timed-worker.ts';
