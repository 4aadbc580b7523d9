import { readFile } from 'node:fs/promises';
import { Parser } from '@asyncapi/parser';
import { describe, expect, it } from 'vitest';
import { CATALOGUE, buildAsyncApiDocument, deadLetterTopicName } from '../src/index.ts';

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

  it('matches the committed asyncapi.json (run `npm run asyncapi -w @postwire/contracts` after a change)', async () => {
    const committed = JSON.parse(await readFile(new URL('../asyncapi.json', import.meta.url), 'utf8')) as unknown;
    expect(committed).toEqual(JSON.parse(JSON.stringify(document)));
  });
});
