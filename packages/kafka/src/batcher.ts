export type BatchLimits = {
  /** How long the first message into an idle topic waits for others before it is sent; 0 sends every call on its own. */
  readonly lingerMs: number;
  /** A batch is sent at once when it holds this many messages (one call's messages are never split). */
  readonly maxMessages: number;
  /** ...or this many bytes of keys, values and headers; below the broker's message.max.bytes (1 MiB by default). */
  readonly maxBytes: number;
};

export const DEFAULT_BATCH_LIMITS: BatchLimits = { lingerMs: 2, maxMessages: 500, maxBytes: 512 * 1024 };

export type SendBatcher<Message> = {
  /** Queues one caller's messages for a topic; settles with the outcome of the batch they went out in. */
  send(topic: string, messages: readonly Message[], bytes: number): Promise<void>;
  /** Sends everything queued without waiting out the linger, and settles once nothing is queued or in flight. */
  drain(): Promise<void>;
};

type Caller<Message> = {
  readonly messages: readonly Message[];
  readonly bytes: number;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
};

type Lane<Message> = {
  readonly queue: Caller<Message>[];
  messages: number;
  bytes: number;
  /** The queue's first caller has waited long enough (the linger, or a send in flight). */
  due: boolean;
  timer: NodeJS.Timeout | undefined;
  inFlight: Promise<void> | undefined;
};

/**
 * Collects concurrent callers' messages per topic into one send: a batch goes out when the linger has
 * passed since its first message, or when it is full. At most one send per topic is in flight; what
 * arrives meanwhile goes out together as soon as it settles, so batches grow with the broker's round
 * trip instead of with the linger. Messages keep the order they were queued in, retries included (a
 * batch cannot be overtaken by the next one). A failed send fails exactly the callers in that batch.
 */
export function createSendBatcher<Message>(
  limits: BatchLimits,
  sendBatch: (topic: string, messages: Message[]) => Promise<void>,
): SendBatcher<Message> {
  const lanes = new Map<string, Lane<Message>>();

  function full(lane: Lane<Message>): boolean {
    return lane.messages >= limits.maxMessages || lane.bytes >= limits.maxBytes;
  }

  function flush(topic: string, lane: Lane<Message>): void {
    if (lane.inFlight || lane.queue.length === 0 || !(lane.due || full(lane))) return;
    clearTimeout(lane.timer);
    lane.timer = undefined;
    lane.due = false;
    const callers: Caller<Message>[] = [];
    const messages: Message[] = [];
    let bytes = 0;
    for (const next of lane.queue) {
      if (callers.length > 0 && (messages.length + next.messages.length > limits.maxMessages || bytes + next.bytes > limits.maxBytes)) break;
      callers.push(next);
      messages.push(...next.messages);
      bytes += next.bytes;
    }
    lane.queue.splice(0, callers.length);
    lane.messages -= messages.length;
    lane.bytes -= bytes;
    lane.inFlight = sendBatch(topic, messages).then(
      () => {
        for (const caller of callers) caller.resolve();
      },
      (error: unknown) => {
        for (const caller of callers) caller.reject(error);
      },
    );
    void lane.inFlight.finally(() => {
      lane.inFlight = undefined;
      // Whatever queued during the send has waited its round trip: it goes now.
      lane.due = lane.queue.length > 0;
      flush(topic, lane);
    });
  }

  function laneOf(topic: string): Lane<Message> {
    let lane = lanes.get(topic);
    if (!lane) {
      lane = { queue: [], messages: 0, bytes: 0, due: false, timer: undefined, inFlight: undefined };
      lanes.set(topic, lane);
    }
    return lane;
  }

  return {
    send(topic, messages, bytes) {
      if (limits.lingerMs <= 0) return sendBatch(topic, [...messages]);
      const lane = laneOf(topic);
      const queued = new Promise<void>((resolve, reject) => lane.queue.push({ messages, bytes, resolve, reject }));
      lane.messages += messages.length;
      lane.bytes += bytes;
      if (lane.timer === undefined && !lane.due && !lane.inFlight) {
        lane.timer = setTimeout(() => {
          lane.timer = undefined;
          lane.due = true;
          flush(topic, lane);
        }, limits.lingerMs);
      }
      flush(topic, lane);
      return queued;
    },
    async drain() {
      for (;;) {
        const busy = [...lanes].filter(([, lane]) => lane.queue.length > 0 || lane.inFlight);
        if (busy.length === 0) return;
        for (const [topic, lane] of busy) {
          lane.due = true;
          flush(topic, lane);
        }
        await Promise.allSettled(busy.map(([, lane]) => lane.inFlight));
      }
    },
  };
}
