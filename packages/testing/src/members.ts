import { randomUUID } from 'node:crypto';
import type pg from 'pg';

/**
 * A user of a new organisation in the host tables, which RLS and the token membership check read;
 * `admin` is a superuser client of the test's database.
 */
export async function addMember(admin: pg.Client): Promise<{ readonly userId: string; readonly organisationId: string }> {
  const organisationId = randomUUID();
  const userId = randomUUID();
  await admin.query('INSERT INTO organisations (id, name) VALUES ($1, $2)', [organisationId, `Org ${organisationId.slice(0, 8)}`]);
  await admin.query('INSERT INTO users (id, organisation_id, email) VALUES ($1, $2, $3)', [userId, organisationId, `${userId}@postwire.test`]);
  return { userId, organisationId };
}
