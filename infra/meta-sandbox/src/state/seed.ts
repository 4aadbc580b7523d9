import { z } from 'zod';
import type { Store } from './store.ts';

/** What tests (and the dev seed) can create: apps, Facebook test users with Pages, and Instagram accounts. */
const instagramAccountSeed = z.object({
  id: z.string().regex(/^\d+$/).optional(),
  username: z.string().regex(/^[A-Za-z0-9._]{1,30}$/),
  name: z.string().optional(),
  accountType: z.enum(['BUSINESS', 'MEDIA_CREATOR']).default('BUSINESS'),
  followersCount: z.number().int().min(0).default(1_000),
});

export const seedSchema = z.object({
  apps: z
    .array(
      z.object({
        id: z.string().regex(/^\d+$/).optional(),
        secret: z.string().min(8).optional(),
        name: z.string().default('Postwire Sandbox'),
        redirectUris: z.array(z.url()).default([]),
        loginConfigs: z.record(z.string(), z.array(z.string())).default({}),
      }),
    )
    .default([]),
  users: z
    .array(
      z.object({
        id: z.string().regex(/^\d+$/).optional(),
        name: z.string().min(1),
        email: z.string().optional(),
        pages: z
          .array(
            z.object({
              id: z.string().regex(/^\d+$/).optional(),
              name: z.string().min(1),
              category: z.string().default('Brand'),
              location: z.object({ city: z.string(), country: z.string(), latitude: z.number(), longitude: z.number() }).optional(),
              instagram: instagramAccountSeed.optional(),
            }),
          )
          .default([]),
      }),
    )
    .default([]),
  /** Instagram accounts without a Page: reachable through Instagram Login only. */
  instagramAccounts: z.array(instagramAccountSeed).default([]),
});

export type SeedInput = z.input<typeof seedSchema>;

export type SeedResult = {
  apps: { id: string; secret: string }[];
  users: { id: string; name: string; pages: { id: string; name: string; instagramAccountId?: string | undefined }[] }[];
  instagramAccounts: { id: string; username: string; accountType: string; pageId?: string | undefined }[];
};

export function applySeed(store: Store, input: SeedInput): SeedResult {
  const seed = seedSchema.parse(input);
  const result: SeedResult = { apps: [], users: [], instagramAccounts: [] };
  for (const app of seed.apps) {
    const id = app.id ?? store.ids.next('user').replace(/^10009/, '90000');
    const secret = app.secret ?? `secret-${id}`;
    store.apps.set(id, {
      id,
      secret,
      name: app.name,
      redirectUris: app.redirectUris,
      loginConfigs: new Map(Object.entries(app.loginConfigs)),
      subscriptions: store.apps.get(id)?.subscriptions ?? new Map(),
    });
    result.apps.push({ id, secret });
  }
  const addInstagram = (account: z.output<typeof instagramAccountSeed>, pageId: string | undefined) => {
    const id = account.id ?? store.ids.next('instagramUser');
    store.instagramAccounts.set(id, {
      id,
      username: account.username,
      name: account.name ?? account.username,
      accountType: account.accountType,
      pageId,
      followersCount: account.followersCount,
    });
    result.instagramAccounts.push({ id, username: account.username, accountType: account.accountType, pageId });
    return id;
  };
  for (const user of seed.users) {
    const userId = user.id ?? store.ids.next('user');
    const pages: SeedResult['users'][number]['pages'] = [];
    for (const page of user.pages) {
      const pageId = page.id ?? store.ids.next('page');
      const instagramAccountId = page.instagram ? addInstagram(page.instagram, pageId) : undefined;
      store.pages.set(pageId, { id: pageId, name: page.name, category: page.category, location: page.location, instagramAccountId, subscribedApps: new Map() });
      pages.push({ id: pageId, name: page.name, instagramAccountId });
    }
    store.users.set(userId, {
      id: userId,
      name: user.name,
      email: user.email ?? `${user.name.toLowerCase().replace(/\W+/g, '.')}@sandbox.test`,
      pageIds: pages.map((page) => page.id),
    });
    result.users.push({ id: userId, name: user.name, pages });
  }
  for (const account of seed.instagramAccounts) addInstagram(account, undefined);
  return result;
}

export const PUBLISHING_SCOPES = [
  'pages_show_list',
  'pages_read_engagement',
  'pages_manage_posts',
  'publish_video',
  'read_insights',
  'business_management',
  'instagram_basic',
  'instagram_content_publish',
  'instagram_manage_insights',
  'instagram_manage_comments',
  'instagram_manage_contents',
];

/** The dev seed: one app, two test users, three Pages, a business and a creator Instagram account. */
export function devSeed(app: { id: string; secret: string; redirectUris: string[] }): SeedInput {
  return {
    apps: [
      {
        id: app.id,
        secret: app.secret,
        name: 'Postwire (sandbox)',
        redirectUris: app.redirectUris,
        loginConfigs: { '100000000000100': PUBLISHING_SCOPES },
      },
    ],
    users: [
      {
        id: '1000900000000101',
        name: 'Alice Sandbox',
        email: 'alice@sandbox.test',
        pages: [
          {
            id: '1001000000000201',
            name: 'Postwire Bakery',
            category: 'Bakery',
            location: { city: 'Lyon', country: 'France', latitude: 45.764, longitude: 4.8357 },
            instagram: { id: '17841400000000301', username: 'postwire.bakery', name: 'Postwire Bakery', accountType: 'BUSINESS', followersCount: 12_400 },
          },
          {
            id: '1001000000000202',
            name: 'Postwire Studio',
            category: 'Artist',
            instagram: { id: '17841400000000302', username: 'postwire.studio', name: 'Postwire Studio', accountType: 'MEDIA_CREATOR', followersCount: 3_100 },
          },
        ],
      },
      {
        id: '1000900000000102',
        name: 'Bob Sandbox',
        email: 'bob@sandbox.test',
        pages: [{ id: '1001000000000203', name: "Bob's Garden Centre", category: 'Garden Center' }],
      },
    ],
  };
}
