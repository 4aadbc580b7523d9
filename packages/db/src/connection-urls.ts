import { type DataService, connectionUrlForRole, serviceRoles } from './roles.ts';

export type ServiceConnectionUrls = { readonly app: string; readonly worker: string };

/**
 * A service's two logins. Explicit URLs win; otherwise the service logs in to the admin URL's server
 * and database as its own roles (`<service>_app`: RLS applies; `<service>_worker`: background work).
 */
export function serviceConnectionUrls(
  service: DataService,
  adminUrl: string,
  explicit: { readonly app?: string | undefined; readonly worker?: string | undefined } = {},
): ServiceConnectionUrls {
  const roles = serviceRoles(service);
  return {
    app: explicit.app ?? connectionUrlForRole(adminUrl, roles.app),
    worker: explicit.worker ?? connectionUrlForRole(adminUrl, roles.worker),
  };
}
