/** An event as API consumers see it: the CloudEvent id and type, and the public payload. */
export type LiveEvent = { readonly id: string; readonly type: string; readonly time: string; readonly data: unknown };

export type Replay =
  /** The id was found: these came after it (possibly none). */
  | { readonly found: true; readonly events: readonly LiveEvent[] }
  /** Not (or no longer) held: whatever came between it and now cannot be told. */
  | { readonly found: false };

export type EventHubOptions = {
  /** Events kept per organisation for `Last-Event-ID` resumes. */
  readonly replaySize: number;
  /** And for at most this long. */
  readonly replayMs: number;
  /** Organisations whose recent events are kept; the one quiet longest is forgotten first. */
  readonly maxOrganisations: number;
  readonly now?: () => number;
};

type Held = { readonly event: LiveEvent; readonly receivedAt: number };
type Organisation = { held: Held[]; readonly ids: Set<string>; readonly listeners: Set<(event: LiveEvent) => void> };

/**
 * Fans events out in memory to the connected streams of their organisation only, and keeps a bounded
 * window of each organisation's recent events so a reconnecting stream resumes where it left off.
 * An event id seen again (Kafka delivers at least once) is dropped.
 */
export function createEventHub(options: EventHubOptions) {
  const now = options.now ?? Date.now;
  const organisations = new Map<string, Organisation>();

  function organisation(organisationId: string): Organisation {
    let entry = organisations.get(organisationId);
    if (!entry) {
      entry = { held: [], ids: new Set(), listeners: new Set() };
      organisations.set(organisationId, entry);
    }
    return entry;
  }

  function trim(entry: Organisation, at: number): void {
    const oldestKept = at - options.replayMs;
    let drop = Math.max(0, entry.held.length - options.replaySize);
    while (drop < entry.held.length && (entry.held[drop]?.receivedAt ?? at) < oldestKept) drop += 1;
    if (drop === 0) return;
    for (const { event } of entry.held.slice(0, drop)) entry.ids.delete(event.id);
    entry.held = entry.held.slice(drop);
  }

  /** Forgets the organisations quiet longest, beyond the bound; those with open streams stay. */
  function evict(): void {
    for (const [organisationId, entry] of organisations) {
      if (organisations.size <= options.maxOrganisations) return;
      if (entry.listeners.size === 0) organisations.delete(organisationId);
    }
  }

  return {
    publish(organisationId: string, event: LiveEvent): boolean {
      const entry = organisation(organisationId);
      if (entry.ids.has(event.id)) return false;
      const at = now();
      entry.held.push({ event, receivedAt: at });
      entry.ids.add(event.id);
      trim(entry, at);
      // Most recently active last, so eviction takes the quietest first.
      organisations.delete(organisationId);
      organisations.set(organisationId, entry);
      evict();
      for (const listener of entry.listeners) listener(event);
      return true;
    },

    /** Registers a stream; returns its unsubscribe. */
    subscribe(organisationId: string, listener: (event: LiveEvent) => void): () => void {
      const entry = organisation(organisationId);
      entry.listeners.add(listener);
      return () => {
        entry.listeners.delete(listener);
        if (entry.listeners.size === 0 && entry.held.length === 0) organisations.delete(organisationId);
      };
    },

    /** The organisation's events after `lastEventId`, if it is still held. */
    replaySince(organisationId: string, lastEventId: string): Replay {
      const entry = organisations.get(organisationId);
      if (!entry) return { found: false };
      trim(entry, now());
      const index = entry.held.findIndex((held) => held.event.id === lastEventId);
      if (index < 0) return { found: false };
      return { found: true, events: entry.held.slice(index + 1).map((held) => held.event) };
    },

    connections(): number {
      let count = 0;
      for (const entry of organisations.values()) count += entry.listeners.size;
      return count;
    },
  };
}

export type EventHub = ReturnType<typeof createEventHub>;
