import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

/**
 * Where the tests find Kafka and Postgres, in this order:
 * 1. KAFKA_BROKERS / DATABASE_URL when set (CI with external services, a developer's own stack);
 * 2. containers started with testcontainers when a Docker engine answers;
 * 3. infra/kafka (Maven-resolved broker, reused when already up) and the local Postgres server.
 */
export type Infrastructure = {
  readonly kafkaBrokers: string[];
  /** A superuser connection URL; its database part is replaced per use. */
  readonly adminDatabaseUrl: string;
  readonly source: { readonly kafka: string; readonly postgres: string };
  stop(): Promise<void>;
};

const LOCAL_POSTGRES = 'postgres://postgres@127.0.0.1:5432/postgres';
const KAFKA_IMAGE = 'apache/kafka:4.1.1';
const POSTGRES_IMAGE = 'postgres:17';

export async function startInfrastructure(env: NodeJS.ProcessEnv): Promise<Infrastructure> {
  const stops: (() => Promise<void>)[] = [];
  const docker = env.KAFKA_BROKERS && env.DATABASE_URL ? false : await dockerAnswers();

  let kafkaBrokers: string[];
  let kafkaSource: string;
  if (env.KAFKA_BROKERS) {
    kafkaBrokers = env.KAFKA_BROKERS.split(',').map((broker) => broker.trim());
    kafkaSource = 'KAFKA_BROKERS';
  } else if (docker) {
    const kafka = await startKafkaContainer();
    kafkaBrokers = [kafka.broker];
    kafkaSource = KAFKA_IMAGE;
    stops.push(kafka.stop);
  } else {
    await startLocalKafka(env);
    kafkaBrokers = [`127.0.0.1:${env.KAFKA_PORT ?? '9092'}`];
    kafkaSource = 'infra/kafka';
  }

  let adminDatabaseUrl: string;
  let postgresSource: string;
  if (env.DATABASE_URL) {
    adminDatabaseUrl = env.DATABASE_URL;
    postgresSource = 'DATABASE_URL';
  } else if (docker) {
    const postgres = await startPostgresContainer();
    adminDatabaseUrl = postgres.url;
    postgresSource = POSTGRES_IMAGE;
    stops.push(postgres.stop);
  } else {
    adminDatabaseUrl = LOCAL_POSTGRES;
    postgresSource = 'local server';
  }

  return {
    kafkaBrokers,
    adminDatabaseUrl,
    source: { kafka: kafkaSource, postgres: postgresSource },
    stop: async () => {
      for (const stop of stops.reverse()) await stop();
    },
  };
}

async function dockerAnswers(): Promise<boolean> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

async function startLocalKafka(env: NodeJS.ProcessEnv): Promise<void> {
  const script = fileURLToPath(new URL('../../../infra/kafka/kafka.sh', import.meta.url));
  await new Promise<void>((resolve, reject) => {
    const child = spawn('bash', [script, 'start'], { env, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`infra/kafka start exited with ${code}`))));
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function startKafkaContainer(): Promise<{ broker: string; stop: () => Promise<void> }> {
  const { GenericContainer, Wait } = await import('testcontainers');
  // The advertised listener must name the port the host sees, so the host port is chosen up front.
  const port = await freePort();
  const container = await new GenericContainer(KAFKA_IMAGE)
    .withExposedPorts({ container: port, host: port })
    .withEnvironment({
      KAFKA_NODE_ID: '1',
      KAFKA_PROCESS_ROLES: 'broker,controller',
      KAFKA_LISTENERS: `PLAINTEXT://:${port},CONTROLLER://:9093`,
      KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://127.0.0.1:${port}`,
      KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
      KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
      KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
      KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR: '1',
      KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR: '1',
      KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
      KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
    })
    .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
    .start();
  return { broker: `127.0.0.1:${port}`, stop: async () => void (await container.stop()) };
}

async function startPostgresContainer(): Promise<{ url: string; stop: () => Promise<void> }> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const container = await new GenericContainer(POSTGRES_IMAGE)
    .withExposedPorts(5432)
    .withEnvironment({ POSTGRES_HOST_AUTH_METHOD: 'trust' })
    .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
    .start();
  const url = `postgres://postgres@${container.getHost()}:${container.getMappedPort(5432)}/postgres`;
  return { url, stop: async () => void (await container.stop()) };
}
