import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signDevelopmentToken } from '@postwire/auth';
import { uniqueName } from '@postwire/testing';
import { type Member, startStack } from './stack.ts';

/**
 * A fuzz pass over every operation the gateway documents, driven by its own OpenAPI document, against
 * the services as they run (gateway, accounts, publisher; real Kafka and Postgres), through real HTTP:
 * malformed bodies, headers, ids, query strings, content types, unicode and huge inputs. Every case is
 * wrong by construction, so every answer must be a 4xx problem, never a 5xx, and nothing stored may
 * change: the rows of every table and the messages of every topic are counted before and after.
 */

type JsonSchema = {
  type?: string | string[];
  $ref?: string;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  enum?: unknown[];
  format?: string;
  pattern?: string;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  example?: unknown;
  examples?: unknown[];
};
type Parameter = { name: string; in: 'path' | 'query' | 'header'; required?: boolean; schema: JsonSchema };
type Operation = { operationId: string; parameters?: Parameter[]; requestBody?: { content: Record<string, { schema: JsonSchema }> }; security?: unknown[] };
type Document = { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, JsonSchema> } };

type Case = {
  readonly label: string;
  readonly method: string;
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly body?: string | Buffer;
};

type Answer = { status: number; contentType: string; body: string };

/** One request through a real socket (fetch refuses some of what a fuzzer must send, e.g. a GET with a body). */
function send(baseUrl: string, fuzzCase: Case): Promise<Answer> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      { host: url.hostname, port: url.port, method: fuzzCase.method, path: fuzzCase.path, headers: fuzzCase.headers, agent: false },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, contentType: String(response.headers['content-type'] ?? ''), body: Buffer.concat(chunks).toString() }));
        response.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(fuzzCase.body);
  });
}

const UNICODE = ['💥', 'ｆｕｌｌｗｉｄｔｈ', 'e\u0301', '\u202eevil', 'null\u0000byte', '𝓤𝓷𝓲𝓬𝓸𝓭𝓮', 'ДЖ'];
/** Values no uuid, instant, enum or bounded number takes. */
const BAD_SCALARS = ['not-a-uuid', '00000000-0000-0000-0000-00000000000g', '-1', '1e309', 'NaN', '', ' ', '2026-03-08T09:00:00', 'true', '[]', '{}', '%00', '..%2F..%2Fetc%2Fpasswd', ...UNICODE];

function resolve(document: Document, schema: JsonSchema | undefined): JsonSchema {
  if (!schema?.$ref) return schema ?? {};
  return resolve(document, document.components.schemas[schema.$ref.split('/').pop() ?? '']);
}

/** The JSON types a schema takes (a union's, too); empty when it takes anything. */
function typesOf(document: Document, schema: JsonSchema): Set<string> {
  const resolved = resolve(document, schema);
  const options = resolved.anyOf ?? resolved.oneOf;
  if (options) return new Set(options.flatMap((option) => [...typesOf(document, option)]));
  if (resolved.type === undefined) return new Set(resolved.enum ? ['string'] : []);
  const types = Array.isArray(resolved.type) ? resolved.type : [resolved.type];
  return new Set(types.flatMap((type) => (type === 'integer' ? ['integer', 'number'] : [type])));
}

/** Values of a JSON type this schema does not take: each makes a body invalid wherever it goes. */
function wrongValues(document: Document, schema: JsonSchema): unknown[] {
  const types = typesOf(document, schema);
  if (types.size === 0) return [];
  const candidates: [string, unknown][] = [
    ['number', 12.5],
    ['boolean', true],
    ['string', 'wrong'],
    ['array', ['wrong']],
    ['object', { wrong: true }],
    ['null', null],
  ];
  const wrong = candidates.filter(([type]) => !types.has(type)).map(([, value]) => value);
  const resolved = resolve(document, schema);
  // Valid JSON types with invalid values: over the length bound (in astral unicode), outside an enum or format.
  if (types.has('string') && resolved.maxLength !== undefined) wrong.push('💥'.repeat(resolved.maxLength + 1));
  if (types.has('string') && (resolved.enum || resolved.format || resolved.pattern)) wrong.push(...UNICODE.slice(0, 3));
  if (types.has('number') && resolved.maximum !== undefined) wrong.push(resolved.maximum + 1);
  return wrong;
}

/** An example body the operation documents (each is valid: the lint test checks them). */
function exampleBody(document: Document, operation: Operation): Record<string, unknown> | undefined {
  const media = operation.requestBody?.content['application/json'];
  if (!media) return undefined;
  const schema = resolve(document, media.schema);
  const example = schema.example ?? schema.examples?.[0] ?? (media as { example?: unknown }).example;
  return example !== null && typeof example === 'object' ? (example as Record<string, unknown>) : undefined;
}

/** Whether the operation takes the bearer token: the document's default, or one of its own ways in. */
function takesBearer(operation: Operation): boolean {
  return operation.security === undefined || operation.security.some((requirement) => requirement !== null && typeof requirement === 'object' && 'bearer' in requirement);
}

/** Every wrong case for one operation. */
function casesFor(document: Document, path: string, method: string, operation: Operation, authorization: string): Case[] {
  const cases: Case[] = [];
  const verb = method.toUpperCase();
  const parameters = operation.parameters ?? [];
  const pathParameters = parameters.filter((parameter) => parameter.in === 'path');
  // Path parameters valid by their schema; a uuid names nothing that exists (a 404 is 4xx too).
  const validPath = (overrides: Record<string, string> = {}) =>
    path.replace(/\{([^}]+)\}/g, (_match, name: string) => {
      if (name in overrides) return overrides[name] ?? '';
      const schema = resolve(document, pathParameters.find((parameter) => parameter.name === name)?.schema);
      return encodeURIComponent(String(schema.enum?.[0] ?? randomUUID()));
    });
  const json = { 'content-type': 'application/json' };
  const auth = { authorization };
  const body = exampleBody(document, operation);
  // With valid parameters, a read would succeed: only routes that write or name a resource are tried plain.
  const bodyless = !operation.requestBody;
  const plainIsWrong = pathParameters.some((parameter) => resolve(document, parameter.schema).format === 'uuid') && (bodyless || verb === 'GET');

  // Ids and path parameters: malformed, unicode, traversal, huge.
  for (const parameter of pathParameters) {
    for (const value of [...BAD_SCALARS, 'a'.repeat(5_000), '%F0%9F'.repeat(10), '%2e%2e']) {
      const encoded = /%[0-9A-F]{2}/i.test(value) ? value : encodeURIComponent(value);
      cases.push({ label: `${parameter.name}=${value.slice(0, 20)}`, method: verb, path: validPath({ [parameter.name]: encoded }), headers: { ...auth, ...(body ? json : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
    }
  }
  if (plainIsWrong) cases.push({ label: 'unknown id', method: verb, path: validPath(), headers: auth });

  // Query strings: every parameter wrong in turn, repeated, unicode, huge.
  for (const parameter of parameters.filter((candidate) => candidate.in === 'query')) {
    const schema = resolve(document, parameter.schema);
    // A free string takes any of the bad scalars: only its length can be wrong.
    const free = schema.type === 'string' && !schema.enum && !schema.format && !schema.pattern && schema.maxLength === undefined;
    const values = [...(free ? [] : BAD_SCALARS), 'x'.repeat(3_000)];
    for (const value of values) {
      cases.push({ label: `?${parameter.name}=${value.slice(0, 20)}`, method: verb, path: `${validPath()}?${parameter.name}=${encodeURIComponent(value)}${plainIsWrong ? '' : '&limit=0'}`, headers: auth });
    }
    cases.push({ label: `?${parameter.name} huge`, method: verb, path: `${validPath()}?${parameter.name}=${'9'.repeat(40_000)}`, headers: auth });
  }

  // Headers: no token, a forged one, a foreign one, a huge one, an Accept nothing answers, an invalid Idempotency-Key.
  if (takesBearer(operation)) {
    for (const [label, value] of [
      ['no token', undefined],
      ['garbage token', 'Bearer garbage'],
      ['unsigned token', `Bearer ${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"sub":"x"}').toString('base64url')}.`],
      ['basic auth', 'Basic dXNlcjpwYXNz'],
      ['unicode token', `Bearer ${encodeURIComponent('💥')}`],
      ['huge token', `Bearer ${'a'.repeat(12_000)}`],
    ] as const) {
      cases.push({ label, method: verb, path: validPath(), headers: { ...(value ? { authorization: value } : {}), ...(body ? json : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
    }
  }
  cases.push({ label: 'Accept: text/csv', method: verb, path: validPath(), headers: { ...auth, accept: 'text/csv', ...(body ? json : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
  cases.push({ label: 'headers over the limit', method: verb, path: validPath(), headers: { ...auth, 'x-padding': 'p'.repeat(20_000) } });
  // Headers every route reads first (correlation, trace context, Prefer) in forms nobody should send, on a
  // request the Accept check then refuses: they are read, and must not break anything.
  for (const [name, value] of [
    ['x-correlation-id', 'c'.repeat(5_000)],
    ['x-correlation-id', '../;DROP TABLE'],
    ['traceparent', 'ff-00000000000000000000000000000000-0000000000000000-ff'],
    ['traceparent', '00-'.repeat(300)],
    ['prefer', 'respond-async, wait=-1, '.repeat(20)],
  ] as const) {
    cases.push({ label: `${name}: ${value.slice(0, 15)}`, method: verb, path: validPath(), headers: { ...auth, [name]: value, accept: 'text/csv', ...(body ? json : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
  }
  cases.push({ label: 'Accept refusing everything', method: verb, path: validPath(), headers: { ...auth, accept: 'application/json;q=0, */*;q=0.000' } });
  // Every query parameter given twice.
  for (const parameter of parameters.filter((candidate) => candidate.in === 'query')) {
    cases.push({ label: `?${parameter.name} twice`, method: verb, path: `${validPath()}?${parameter.name}=1&${parameter.name}=%zz${plainIsWrong ? '' : '&limit=0'}`, headers: auth });
  }
  if (parameters.some((parameter) => parameter.in === 'header' && parameter.name === 'idempotency-key') && body) {
    for (const key of ['', ' ', 'k'.repeat(256), '\u00e9t\u00e9']) {
      cases.push({ label: `Idempotency-Key ${key.slice(0, 10)}`, method: verb, path: validPath(), headers: { ...auth, ...json, 'idempotency-key': encodeURIComponent(key) === key ? key : Buffer.from(key, 'utf8').toString('latin1') }, body: JSON.stringify({ ...body, caption: 'c'.repeat(3_000) }) });
    }
  }

  // If-Match: malformed lists, a tag too long, a stale or weak tag (on an unknown id, so nothing can apply).
  if (parameters.some((parameter) => parameter.in === 'header' && parameter.name === 'if-match')) {
    for (const value of ['v1', '"a" "b"', 'W/ "a"', '*, "a"', '"a\u00e9 b"', `"${'e'.repeat(5_000)}"`, '"1"', 'W/"1"']) {
      cases.push({ label: `If-Match ${value.slice(0, 12)}`, method: verb, path: validPath(), headers: { ...auth, 'if-match': Buffer.from(value, 'utf8').toString('latin1'), ...(body ? json : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
    }
  }

  // Bodies: malformed JSON, wrong shapes, wrong content types, every property wrong in turn, huge, unicode.
  if (operation.requestBody) {
    const valid = JSON.stringify(body ?? {});
    const raw: [string, string | Buffer, string][] = [
      ['truncated JSON', '{"socialAccountId":', 'application/json'],
      ['not JSON', 'hello', 'application/json'],
      ['JSON array', '[1,2,3]', 'application/json'],
      ['JSON number', '42', 'application/json'],
      ['JSON string', '"post"', 'application/json'],
      ['__proto__', '{"__proto__":{"admin":true}}', 'application/json'],
      ['constructor.prototype', '{"constructor":{"prototype":{"admin":true}}}', 'application/json'],
      ['deeply nested', `${'['.repeat(50_000)}${']'.repeat(50_000)}`, 'application/json'],
      ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]), 'application/json'],
      ['lone surrogate', '{"caption":"\\ud800"}', 'application/json'],
      ['over the body limit', `{"caption":"${'x'.repeat(2 * 1024 * 1024)}"}`, 'application/json'],
      ['valid body as XML', valid, 'application/xml'],
      ['valid body as a form', valid, 'application/x-www-form-urlencoded'],
      ['valid body as multipart', valid, 'multipart/form-data; boundary=x'],
      ['valid body as text', valid, 'text/plain'],
      ['content type garbage', valid, '💥/💥'],
    ];
    for (const [label, payload, type] of raw) {
      cases.push({ label, method: verb, path: validPath(), headers: { ...auth, 'content-type': Buffer.from(type, 'utf8').toString('latin1') }, body: payload });
    }
    const schema = resolve(document, operation.requestBody.content['application/json']?.schema);
    for (const [name, property] of Object.entries(schema.properties ?? {})) {
      for (const value of wrongValues(document, property)) {
        cases.push({ label: `body.${name}=${JSON.stringify(value).slice(0, 20)}`, method: verb, path: validPath(), headers: { ...auth, ...json }, body: JSON.stringify({ ...body, [name]: value }) });
      }
    }
    for (const name of schema.required ?? []) {
      const { [name]: _left, ...rest } = body ?? {};
      cases.push({ label: `without ${name}`, method: verb, path: validPath(), headers: { ...auth, ...json }, body: JSON.stringify(rest) });
    }
  }
  return cases;
}

describe('fuzz pass over every documented operation', { timeout: 180_000 }, () => {
  let stack: Awaited<ReturnType<typeof startStack>>;
  let member: Member;
  let document: Document;

  beforeAll(async () => {
    // Topics of its own: the services' consumers then see nothing another test file produced, so whatever
    // the counts show is this pass's doing.
    stack = await startStack({ publisher: true, analytics: true, topicPrefix: `${uniqueName('fuzz')}.` });
    member = await stack.member();
    document = (await stack.gateway.inject('/openapi.json')).json();
  });

  afterAll(async () => {
    await stack?.stop();
  });

  /** Rows of every table of the services' schemas, by table. */
  async function rowCounts(): Promise<Record<string, number>> {
    const { rows } = await stack.admin.query<{ name: string; rows: number }>(
      `SELECT table_schema || '.' || table_name AS name,
              (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I', table_schema, table_name), false, true, '')))[1]::text::int AS rows
         FROM information_schema.tables
        WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')
        ORDER BY 1`,
    );
    return Object.fromEntries(rows.map((row) => [row.name, row.rows]));
  }

  /** Messages on every topic of this run (its prefix), by topic: the sum of the partitions' high watermarks. */
  async function topicMessages(): Promise<Record<string, number>> {
    const client = stack.gateway.kafka.client;
    const admin = client.kafka.admin();
    await admin.connect();
    try {
      const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(client.topicPrefix));
      const counts: Record<string, number> = {};
      for (const topic of topics) {
        const offsets = await admin.fetchTopicOffsets(topic);
        counts[topic] = offsets.reduce((sum, partition) => sum + Number(partition.high), 0);
      }
      return counts;
    } finally {
      await admin.disconnect();
    }
  }

  it('answers every malformed request with a 4xx problem, never a 5xx, and stores nothing', async () => {
    const foreign = await signDevelopmentToken({ secret: 'e2e-shared-secret-of-at-least-32-chars', userId: randomUUID(), organisationId: member.organisationId });
    const cases: Case[] = [];
    for (const [path, methods] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        cases.push(...casesFor(document, path, method, operation, member.authorization));
        // A valid token of a user the host does not know: refused on every route behind the bearer.
        if (takesBearer(operation)) cases.push({ label: 'unknown user', method: method.toUpperCase(), path: path.replace(/\{[^}]+\}/g, randomUUID()), headers: { authorization: `Bearer ${foreign}` } });
      }
      // Methods the path does not take, and paths nothing serves.
      for (const method of ['PUT', 'PATCH', 'DELETE', 'POST', 'GET', 'OPTIONS', 'TRACE'].filter((candidate) => !(candidate.toLowerCase() in methods))) {
        cases.push({ label: `wrong method ${method}`, method, path: path.replace(/\{([^}]+)\}/g, (_match, name: string) => (name === 'provider' ? 'facebook' : randomUUID())), headers: { authorization: member.authorization } });
      }
    }
    const emoji = encodeURIComponent('💥');
    for (const path of ['/v1', '/v1/', '/v2/posts', '/v1/posts/', '/v1/posts//publish', `/v1/${emoji}`, `/v1/${'x'.repeat(20_000)}`, '/v1/posts/..%2F..%2Fme', '/v1/posts/%', `/v1/posts?status=draft&status=queued&status=${emoji}`]) {
      cases.push({ label: `path ${path.slice(0, 30)}`, method: 'GET', path, headers: { authorization: member.authorization } });
    }

    const rowsBefore = await rowCounts();
    const messagesBefore = await topicMessages();
    const started = performance.now();
    const statuses = new Map<number, number>();
    const wrong: string[] = [];
    // A few at a time: the machine is shared, and the stack is one process.
    const queue = [...cases];
    await Promise.all(
      Array.from({ length: 6 }, async () => {
        for (let next = queue.shift(); next; next = queue.shift()) {
          const fuzzCase = next;
          const answer = await send(stack.gatewayUrl, fuzzCase);
          statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
          const problem = /^application\/problem\+json/.test(answer.contentType) ? (JSON.parse(answer.body) as { status?: number; type?: string; title?: string; instance?: string }) : undefined;
          const ok = answer.status >= 400 && answer.status < 500 && problem?.status === answer.status && typeof problem.type === 'string' && typeof problem.title === 'string' && typeof problem.instance === 'string';
          if (!ok) wrong.push(`${fuzzCase.method} ${fuzzCase.path.slice(0, 80)} [${fuzzCase.label}] -> ${answer.status} ${answer.contentType} ${answer.body.slice(0, 200)}`);
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const rowsAfter = await rowCounts();
    const messagesAfter = await topicMessages();

    const summary = [...statuses.entries()].sort(([a], [b]) => a - b).map(([status, count]) => `${status}: ${count}`).join(', ');
    const operations = Object.values(document.paths).reduce((sum, methods) => sum + Object.keys(methods).length, 0);
    console.log(`fuzz: ${cases.length} requests over ${operations} operations in ${seconds.toFixed(1)} s; statuses ${summary}; ${Object.keys(rowsBefore).length} tables and ${Object.keys(messagesBefore).length} topics unchanged`);

    expect(wrong).toEqual([]);
    expect(cases.length).toBeGreaterThan(1_000);
    expect(rowsAfter).toEqual(rowsBefore);
    expect(messagesAfter).toEqual(messagesBefore);
    // The counts cover what a write would have touched, and see one: a valid create sends its request event.
    expect(Object.keys(rowsBefore)).toEqual(expect.arrayContaining(['publisher.social_media_posts', 'accounts.social_media_accounts']));
    const requestsTopic = Object.keys(messagesBefore).find((topic) => topic.endsWith('post-requests.v1')) ?? '';
    const valid = exampleBody(document, document.paths['/v1/posts']?.post as Operation);
    const created = await send(stack.gatewayUrl, {
      label: 'control',
      method: 'POST',
      path: '/v1/posts',
      headers: { authorization: member.authorization, 'content-type': 'application/json', prefer: 'respond-async' },
      body: JSON.stringify(valid),
    });
    expect(created.status).toBe(202);
    expect((await topicMessages())[requestsTopic]).toBe((messagesBefore[requestsTopic] ?? 0) + 1);
  });
});
