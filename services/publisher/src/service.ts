/** The publisher's schema (inbox, outbox, tables), its CloudEvents source, and its consumers' names (groups and inbox names). */
export const PUBLISHER = {
  schema: 'publisher',
  source: '/postwire/publisher',
  consumers: { postRequests: 'publisher', accountEvents: 'publisher-accounts', analyticsEvents: 'publisher-analytics-events' },
} as const;
