import type { z } from 'zod';

/** Every payload on account and post topics names the social account: it is the partition key. */
export type KeyedPayload = { readonly socialAccountId: string };

export type EventDefinition<Type extends string = string, Data extends z.ZodType<KeyedPayload> = z.ZodType<KeyedPayload>> = {
  readonly type: Type;
  readonly summary: string;
  readonly data: Data;
  /** The CloudEvents subject (what the event is about), when narrower than the key. */
  subject?(data: z.output<Data>): string;
};

export function defineEvent<const Type extends string, Data extends z.ZodType<KeyedPayload>>(
  definition: EventDefinition<Type, Data>,
): EventDefinition<Type, Data> {
  return definition;
}

/**
 * `request`: a command from the gateway, carries the acting user (ce_actorid).
 * `fact`: something that happened in the owning service.
 */
export type TopicKind = 'request' | 'fact';

export type TopicContract<
  Name extends string = string,
  Events extends readonly EventDefinition[] = readonly EventDefinition[],
> = {
  readonly name: Name;
  /** Stable id for documents (AsyncAPI channel id). */
  readonly id: string;
  readonly title: string;
  readonly description: string;
  readonly kind: TopicKind;
  readonly producer: string;
  readonly consumers: readonly string[];
  readonly majorVersion: number;
  readonly events: Events;
  definition(type: string): EventDefinition | undefined;
};

export function defineTopic<const Name extends string, const Events extends readonly EventDefinition[]>(topic: {
  readonly name: Name;
  readonly id: string;
  readonly title: string;
  readonly description: string;
  readonly kind: TopicKind;
  readonly producer: string;
  readonly consumers: readonly string[];
  readonly events: Events;
}): TopicContract<Name, Events> {
  const version = /\.v(\d+)$/.exec(topic.name);
  if (!version?.[1]) throw new Error(`topic ${topic.name} must end with its major version (.vN)`);
  const byType = new Map<string, EventDefinition>(topic.events.map((event) => [event.type, event]));
  if (byType.size !== topic.events.length) throw new Error(`topic ${topic.name} lists an event type twice`);
  return { ...topic, majorVersion: Number(version[1]), definition: (type) => byType.get(type) };
}

type EventShape<D> = D extends EventDefinition<infer Type, infer Data>
  ? { readonly type: Type; readonly data: Readonly<z.output<Data>> }
  : never;

/** The discriminated union of a topic's events: `switch (event.type)` narrows `data`. */
export type EventOf<Topic extends TopicContract> = EventShape<Topic['events'][number]>;

/** The `type` values of a topic. */
export type EventTypeOf<Topic extends TopicContract> = EventOf<Topic>['type'];

/** One member of a topic's union, by type. */
export type EventOfType<Topic extends TopicContract, Type extends EventTypeOf<Topic>> = Extract<
  EventOf<Topic>,
  { readonly type: Type }
>;

/**
 * Put in the `default` branch of a `switch` over an event's `type`: the call only compiles when every
 * type was handled, so adding an event to a topic shows each handler that must learn about it.
 */
export function assertNever(value: never, message = 'unhandled event type'): never {
  const unexpected: unknown = value;
  const type =
    typeof unexpected === 'object' && unexpected !== null && 'type' in unexpected ? String(unexpected.type) : String(unexpected);
  throw new Error(`${message}: ${type}`);
}
