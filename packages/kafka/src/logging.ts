import { type LogEntry, type logCreator, logLevel } from 'kafkajs';

type LogMethod = {
  (fields: object, message?: string): void;
  (message: string): void;
};

/**
 * The logging this package needs, by shape: a pino logger and Fastify's request or instance logger
 * both fit, so services hand theirs over without casts.
 */
export type ServiceLogger = {
  readonly error: LogMethod;
  readonly warn: LogMethod;
  readonly info: LogMethod;
  readonly debug: LogMethod;
  child(bindings: Record<string, unknown>): ServiceLogger;
};

/** Routes kafkajs's own log lines into the service's pino logger (one JSON log stream). */
export function pinoLogCreator(logger: ServiceLogger): logCreator {
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      const { message, timestamp: _timestamp, logger: _name, ...fields } = log;
      const entry = { kafkajs: namespace, ...fields };
      switch (level) {
        case logLevel.ERROR:
          logger.error(entry, message);
          break;
        case logLevel.WARN:
          logger.warn(entry, message);
          break;
        case logLevel.INFO:
          logger.info(entry, message);
          break;
        default:
          logger.debug(entry, message);
      }
    };
}
