/**
 * The services that own tables, and the three roles each one has (DESIGN.md rule 3):
 * - owner:  NOLOGIN, owns the schema and everything migrations create in it;
 * - app:    LOGIN, no BYPASSRLS: user-scoped work, where the RLS policies decide;
 * - worker: LOGIN, BYPASSRLS: background work (consumers, relays, scans).
 * None of them has rights on another service's schema.
 */
export const DATA_SERVICES = ['accounts', 'publisher', 'analytics', 'gateway'] as const;
export type DataService = (typeof DATA_SERVICES)[number];

export type ServiceRoles = { readonly owner: string; readonly app: string; readonly worker: string };

export function serviceRoles(service: DataService): ServiceRoles {
  return { owner: `${service}_owner`, app: `${service}_app`, worker: `${service}_worker` };
}

/**
 * The gateway's user-scoped login (`gateway_app`): besides its own schema (webhook endpoints and their
 * delivery log, under RLS), it reads only which organisation a user belongs to (`users.id`,
 * `users.organisation_id`), to check a token's organisation claim.
 */
export const GATEWAY_ROLE = serviceRoles('gateway').app;

/** The role that owns the host tables (organisations, users, social_media_videos) when we create them. */
export const HOST_OWNER_ROLE = 'postwire_host_owner';

export function isDataService(value: string): value is DataService {
  return (DATA_SERVICES as readonly string[]).includes(value);
}

/** The same server and database as `adminUrl`, logged in as `role`. */
export function connectionUrlForRole(adminUrl: string, role: string, password?: string): string {
  const url = new URL(adminUrl);
  url.username = role;
  url.password = password ?? '';
  return url.toString();
}
