import type { Admin } from 'kafkajs';
import type { LagRow } from './metrics.ts';

/** High watermark minus committed offset, per partition (a partition never committed counts from its start). */
export async function fetchConsumerLag(admin: Admin, groupId: string, topics: readonly string[]): Promise<LagRow[]> {
  const committed = await admin.fetchOffsets({ groupId, topics: [...topics] });
  const rows: LagRow[] = [];
  for (const topic of topics) {
    const watermarks = await admin.fetchTopicOffsets(topic);
    const group = committed.find((entry) => entry.topic === topic);
    for (const watermark of watermarks) {
      const offset = Number(group?.partitions.find((entry) => entry.partition === watermark.partition)?.offset ?? -1);
      const from = offset >= 0 ? offset : Number(watermark.low);
      rows.push({ groupId, topic, partition: watermark.partition, lag: Math.max(0, Number(watermark.high) - from) });
    }
  }
  return rows;
}
