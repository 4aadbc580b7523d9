import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBrowser } from './browser.ts';
import { startStack } from './stack.ts';

/** The gateway's Content-Security-Policy lets its own pages work: the API reference renders with no violation. */
describe('the API reference in a browser', () => {
  const browser = useBrowser();
  let stack: Awaited<ReturnType<typeof startStack>>;

  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('renders /docs from the OpenAPI document under the gateway\'s security headers, refusing nothing it loads', async () => {
    const page = await browser.page();
    const refusals: string[] = [];
    page.on('console', (message) => {
      if (/Content[- ]Security[- ]Policy|Refused to/i.test(message.text())) refusals.push(message.text());
    });
    const answer = await page.goto(`${stack.gatewayUrl}/docs`);
    expect(answer?.headers()['content-security-policy']).toContain("script-src 'self'");
    await expect.poll(async () => page.locator('.swagger-ui .info .title').textContent(), { timeout: 30_000 }).toContain('Postwire API');
    expect(await page.locator('.opblock').count()).toBeGreaterThan(20);
    expect(refusals).toEqual([]);
  });
});
