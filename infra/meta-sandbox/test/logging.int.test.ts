import { Writable } from 'node:stream';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { sandboxApp } from '../src/app.ts';
import { sandboxLoggerOptions } from '../src/logging.ts';
import { devSeed } from '../src/state/seed.ts';
import { APP_ID, APP_SECRET, FB_REDIRECT, IG_REDIRECT } from './helpers.ts';

describe('sandbox request logs', () => {
  it('never carry a PKCE code_verifier, code, client secret or token from the request line', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const app = Fastify({ logger: { ...sandboxLoggerOptions('info'), stream } });
    await app.register(sandboxApp, { seed: devSeed({ id: APP_ID, secret: APP_SECRET, redirectUris: [FB_REDIRECT, IG_REDIRECT] }) });
    await app.ready();
    const secrets = { code_verifier: 'VERIFIER'.repeat(8), code: 'CODEVALUE', client_secret: 'CLIENTSECRET', access_token: 'TOKENVALUE' };
    const query = new URLSearchParams({ client_id: APP_ID, redirect_uri: FB_REDIRECT, ...secrets });
    await app.inject(`/v25.0/oauth/access_token?${query.toString()}`);
    await app.close();
    const logged = lines.join('');
    expect(logged).toContain('/v25.0/oauth/access_token?client_id=');
    for (const value of Object.values(secrets)) expect(logged).not.toContain(value);
  });
});
