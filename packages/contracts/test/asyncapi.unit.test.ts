import { readFile } from 'node:fs/promises';
import { Parser } from '@asyncapi/parser';
import { describe, expect, it } from 'vitest';
import { CATALOGUE, HEADERS, buildAsyncApiDocument, deadLetterTopicName, eventExamples } from '../src/index.ts';

// The AsyncAPI parser (Spectral rules) takes seconds per document; on a busy machine more than 5.
describe('AsyncAPI document generated from the contracts', { timeout: 30_000 }, () => {
  const document = buildAsyncApiDocument();

  it('is a valid AsyncAPI 3 document (no parser errors)', async () => {
    const { document: parsed, diagnostics } = await new Parser().parse(JSON.stringify(document));
    const errors = diagnostics.filter((diagnostic) => diagnostic.severity === 0);
    expect(errors.map((error) => `${error.path.join('.')}: ${error.message}`)).toEqual([]);
    expect(parsed?.version()).toBe('3.0.0');
  });

  it('has a channel per topic and dead-letter topic, and a message per event type', async () => {
    const { document: parsed } = await new Parser().parse(JSON.stringify(document));
    const addresses = parsed?.channels().all().map((channel) => channel.address()) ?? [];
    for (const topic of CATALOGUE) {
      expect(addresses).toContain(topic.name);
      expect(addresses).toContain(deadLetterTopicName(topic.name));
    }
    const names = parsed?.components().messages().all().map((message) => message.name()) ?? [];
    const types = CATALOGUE.flatMap((topic) => topic.events.map((event) => event.type));
    expect(types.length).toBeGreaterThan(0);
    expect(names).toEqual(expect.arrayContaining(types));
  });

  it('reports no warnings either (examples match their schemas, ids and descriptions are there)', async () => {
    const { diagnostics } = await new Parser().parse(JSON.stringify(document));
    expect(diagnostics.filter((diagnostic) => diagnostic.severity <= 1).map((warning) => `${warning.path.join('.')}: ${warning.message}`)).toEqual([]);
  });

  it('pins each message to its event type (ce_type const), names its correlation id, and gives a valid example', () => {
    const messages = (document.components as { messages: Record<string, Record<string, unknown>> }).messages;
    const examples = eventExamples();
    for (const topic of CATALOGUE) {
      for (const event of topic.events) {
        const message = Object.values(messages).find((candidate) => candidate.name === event.type);
        const headers = message?.headers as { properties: Record<string, { const?: string }>; required: string[] };
        expect(headers.properties[HEADERS.type]?.const, event.type).toBe(event.type);
        expect(headers.required).toContain(HEADERS.type);
        expect(message?.correlationId).toEqual({ description: expect.any(String), location: `$message.header#/${HEADERS.correlationId}` });
        const [example] = message?.examples as { headers: Record<string, string>; payload: unknown }[];
        // The example is a payload the contract itself takes, and its headers name this event.
        expect(event.data.safeParse(example?.payload).error, event.type).toBeUndefined();
        expect(example?.payload).toEqual(examples.get(event.type));
        expect(example?.headers).toMatchObject({ [HEADERS.type]: event.type, [HEADERS.specversion]: '1.0', [HEADERS.contentType]: 'application/json' });
        expect(Object.keys(example?.headers ?? {})).toEqual(expect.arrayContaining(headers.required));
      }
    }
    expect(messages.deadLetter?.examples).toHaveLength(1);
  });

  it('matches the committed asyncapi.json (run `npm run asyncapi -w @postwire/contracts` after a change)', async () => {
    const committed = JSON.parse(await readFile(new URL('../asyncapi.json', import.meta.url), 'utf8')) as unknown;
    expect(committed).toEqual(JSON.parse(JSON.stringify(document)));
  });
});
