// What the global setup hands to every test file through provide/inject.
declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string[];
    /** Before every topic and consumer group of this run (KAFKA_TOPIC_PREFIX). */
    kafkaTopicPrefix: string;
    adminDatabaseUrl: string;
    templateDatabase: string;
  }
}

export {};
