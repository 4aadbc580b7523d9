import pg from 'pg';

/** A fixed organisation and user for local runs, so a dev token stays valid across restarts. */
export const DEMO_IDENTITY = {
  organisationId: '00000000-0000-4000-8000-000000000001',
  userId: '00000000-0000-4000-8000-000000000002',
  email: 'demo@postwire.local',
} as const;

export async function seedDemoIdentity(adminUrl: string): Promise<typeof DEMO_IDENTITY> {
  const client = new pg.Client({ connectionString: adminUrl, application_name: 'postwire-seed' });
  await client.connect();
  try {
    await client.query(
      `INSERT INTO public.organisations (id, name) VALUES ($1, 'Postwire Demo') ON CONFLICT (id) DO NOTHING`,
      [DEMO_IDENTITY.organisationId],
    );
    await client.query(
      `INSERT INTO public.users (id, organisation_id, email) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING`,
      [DEMO_IDENTITY.userId, DEMO_IDENTITY.organisationId, DEMO_IDENTITY.email],
    );
    return DEMO_IDENTITY;
  } finally {
    await client.end();
  }
}
