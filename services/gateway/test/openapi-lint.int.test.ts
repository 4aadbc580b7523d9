import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGateway, createMembers, testEnvironment } from './helpers.ts';

const run = promisify(execFile);
const bin = (name: string) => fileURLToPath(new URL(`../../../node_modules/.bin/${name}`, import.meta.url));

/** Runs a linter; both exit non-zero on findings, and their report is what the assertion shows. */
async function lint(command: string, args: readonly string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(bin(command), [...args], { timeout: 120_000, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' } });
    return { code: 0, output: `${stdout}${stderr}` };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? 1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

type Operation = { operationId?: string; tags?: string[]; description?: string; security?: Record<string, string[]>[]; responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }>; headers?: Record<string, unknown> }> };

// The linters start slowly on a busy machine.
describe('the OpenAPI document, generated from the running app', { timeout: 240_000 }, () => {
  let gateway: FastifyInstance;
  let members: Awaited<ReturnType<typeof createMembers>>;
  let directory: string;
  let file: string;
  let document: { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> } };

  beforeAll(async () => {
    members = await createMembers();
    ({ gateway } = await buildGateway(testEnvironment(members.url)));
    document = (await gateway.inject('/openapi.json')).json();
    directory = await mkdtemp(join(tmpdir(), 'postwire-openapi-'));
    file = join(directory, 'openapi.json');
    await writeFile(file, JSON.stringify(document, null, 2));
  });

  afterAll(async () => {
    await gateway?.close();
    await members?.close();
    await rm(directory, { recursive: true, force: true });
  });

  it('passes `redocly lint` (recommended rules) with no error and no warning', async () => {
    const result = await lint('redocly', ['lint', file, '--format', 'stylish']);
    expect(result.output).not.toMatch(/\b(error|warning)\b/i);
    expect(result.code, result.output).toBe(0);
  });

  it("passes Spectral's oas ruleset with no error and no warning", async () => {
    const ruleset = join(directory, '.spectral.json');
    await writeFile(ruleset, JSON.stringify({ extends: [['spectral:oas', 'recommended']] }));
    const result = await lint('spectral', ['lint', file, '--ruleset', ruleset, '--fail-severity', 'hint', '--format', 'text']);
    expect(result.code, result.output).toBe(0);
    expect(result.output).toMatch(/No results with a severity of 'hint' or higher found!/);
  });

  it('gives every operation an operationId, tags, a description, and the shared Problem for every error', () => {
    const operations = Object.entries(document.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, operation]) => ({ where: `${method.toUpperCase()} ${path}`, operation })));
    expect(operations.length).toBeGreaterThan(15);
    const ids = new Set<string>();
    for (const { where, operation } of operations) {
      expect(operation.operationId, where).toMatch(/^[a-z][A-Za-z]+$/);
      ids.add(operation.operationId ?? '');
      expect(operation.tags?.length, where).toBeGreaterThan(0);
      expect(operation.description?.length ?? 0, where).toBeGreaterThan(20);
      for (const [status, response] of Object.entries(operation.responses)) {
        if (Number(status) < 400) continue;
        expect(response.content?.['application/problem+json']?.schema, `${where} ${status}`).toEqual({ $ref: '#/components/schemas/Problem' });
      }
      // Every operation can be refused as a problem: a bad request at least, the caller's at the worst.
      expect(Object.keys(operation.responses), where).toEqual(expect.arrayContaining(['400', '406']));
    }
    expect(ids.size).toBe(operations.length);
    expect(document.components.schemas).toHaveProperty('Problem');
    expect(document.components.schemas).toHaveProperty('Post');
  });

  it('has examples, each valid against its own schema (the linters do not check 3.1 `examples`)', () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats.default(ajv);
    ajv.addSchema({ $id: 'openapi', components: document.components }, 'openapi');
    const checked: string[] = [];
    const check = (name: string, example: unknown) => {
      const validate = ajv.compile({ $ref: `openapi#/components/schemas/${name}` });
      expect(validate(example) ? [] : validate.errors, `${name}: ${JSON.stringify(example).slice(0, 200)}`).toEqual([]);
      checked.push(name);
    };
    for (const [name, schema] of Object.entries(document.components.schemas) as [string, { examples?: unknown[]; example?: unknown }][]) {
      const examples = [...(schema.examples ?? []), ...(schema.example === undefined ? [] : [schema.example])];
      expect(examples.length, `components.schemas.${name} has an example`).toBeGreaterThan(0);
      for (const example of examples) check(name, example);
    }
    expect(checked.length).toBeGreaterThanOrEqual(Object.keys(document.components.schemas).length);
    // Every operation answers something with an example: a component's, or its own inline one.
    for (const [path, methods] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        const success = Object.entries(operation.responses).filter(([status]) => Number(status) < 300);
        const text = JSON.stringify(success);
        expect(/"\$ref"|"examples?"/.test(text), `${method} ${path} has an example`).toBe(true);
      }
    }
  });

  it('documents what happens: the connect start redirects (or answers JSON), the callback is bound by a cookie, 202s carry a Location', () => {
    const start = document.paths['/v1/connect/{provider}/start']?.get;
    expect(start?.responses['302']?.headers).toHaveProperty('Location');
    expect(start?.responses['200']?.content).toHaveProperty('application/json');
    const callback = document.paths['/v1/connect/{provider}/callback']?.get;
    expect(callback?.security).toEqual([{ connectCookie: [] }]);
    expect(document.components.securitySchemes.connectCookie).toEqual(expect.objectContaining({ type: 'apiKey', in: 'cookie', name: 'pw_connect' }));
    for (const [path, methods] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        const accepted = operation.responses['202'];
        if (accepted) expect(accepted.headers, `${method} ${path}`).toHaveProperty('Location');
      }
    }
  });
});
