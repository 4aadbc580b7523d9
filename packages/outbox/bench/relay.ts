// Bench worker: the outbox relay, as it runs inside the owning service's worker process.
import { parentPort, workerData } from 'node:worker_threads';
import { createDatabasePool } from '@postwire/db';
import { createEventProducer, createKafkaClient } from '@postwire/kafka';
import { pino } from 'pino';
import { createOutboxRelay } from '../src/index.ts';
import type { BenchSetup } from './shared.ts';

const setup = workerData as BenchSetup;
const port = parentPort;
if (!port) throw new Error('run as a worker thread');
const logger = pino({ level: 'warn' });
const pool = await createDatabasePool(setup.workerUrl, { maximumPoolSize: 2, applicationName: 'bench-relay' });
const producer = createEventProducer(createKafkaClient({ brokers: setup.brokers, clientId: 'bench-relay', logger }), {
  source: '/postwire/bench',
});
await producer.connect();
const relay = createOutboxRelay({ pool, sessionUrl: setup.workerUrl, schema: 'publisher', topics: [setup.topicName], producer, logger, batchSize: 1_000 });
await relay.start();
port.postMessage('ready');
port.on('message', async () => {
  await relay.stop();
  await producer.disconnect();
  await pool.end();
  port.close();
});
