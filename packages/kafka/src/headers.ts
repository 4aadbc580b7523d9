import type { IHeaders } from 'kafkajs';

/** kafkajs hands header values as Buffers (or arrays of them); contracts read plain strings. */
export function headersFromKafka(headers: IHeaders | undefined): Record<string, string | undefined> {
  const result: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    // A repeated header keeps its last value, as CloudEvents attributes are single-valued.
    const last = Array.isArray(value) ? value.at(-1) : value;
    result[name] = last === undefined ? undefined : last.toString();
  }
  return result;
}

/** Copies headers as they arrived (Buffers stay Buffers), so a dead letter carries the originals. */
export function copyHeaders(headers: IHeaders | undefined): IHeaders {
  return { ...(headers ?? {}) };
}
