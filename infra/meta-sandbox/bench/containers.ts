// Throughput of the two calls a publisher makes most: container creation and container status.
// Runs the real server (src/server.ts) as a child process, so the load generator and the sandbox do not
// share an event loop, then drives it with autocannon over loopback. Media fetches are cached per URL
// (META_SANDBOX_MEDIA_CACHE=true, the default), so container creation measures the API, not the media host.
//
//   node bench/containers.ts            (BENCH_SECONDS=10 BENCH_CONNECTIONS=50 to tune)
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const IG_ACCOUNT = '17841400000000301';
const USER = '1000900000000101';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || !address) throw new Error('no port');
  return address.port;
}

const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const child = spawn(process.execPath, [fileURLToPath(new URL('../src/server.ts', import.meta.url))], {
  env: {
    ...process.env,
    META_SANDBOX_PORT: String(port),
    META_SANDBOX_LOG_LEVEL: 'warn',
    META_SANDBOX_APP_CALL_BUDGET: '100000000',
    META_SANDBOX_BUC_CALL_BUDGET: '100000000',
    META_SANDBOX_IMAGE_PROCESSING_MS: '0',
    META_SANDBOX_MEDIA_CACHE: 'true',
  },
  stdio: ['ignore', 'inherit', 'inherit'],
});

try {
  for (let attempt = 0; ; attempt += 1) {
    try {
      if ((await fetch(`${base}/_sandbox/health`)).ok) break;
    } catch {
      if (attempt > 100) throw new Error('the sandbox did not start');
    }
    await sleep(100);
  }
  // Meta's 400-containers-per-day cap would stop the run after 400 requests: lift it for the measurement.
  await fetch(`${base}/_sandbox/settings`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ containersPerDay: 1_000_000_000 }),
  });
  const minted = await fetch(`${base}/_sandbox/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ kind: 'facebook-user', subjectId: USER }),
  });
  const token = ((await minted.json()) as { access_token: string }).access_token;
  const imageUrl = `${base}/_sandbox/media/sample.jpg?w=1080&h=1350`;
  const createBody = new URLSearchParams({ image_url: imageUrl, caption: 'Benchmark #sandbox', access_token: token }).toString();
  const warm = await fetch(`${base}/v25.0/${IG_ACCOUNT}/media`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: createBody });
  const containerId = ((await warm.json()) as { id: string }).id;

  const report = (name: string, result: Awaited<ReturnType<typeof autocannon>>) => {
    const failures = result.errors + result.timeouts + result.non2xx;
    console.log(
      `${name.padEnd(34)} ${result.requests.average.toFixed(0).padStart(7)} req/s   p50 ${result.latency.p50} ms   p99 ${result.latency.p99} ms   ` +
        `${result.requests.total} requests, ${failures} failed`,
    );
    return failures;
  };

  console.log(`Meta sandbox benchmark: ${seconds} s per scenario, ${connections} connections, server in its own process\n`);
  let failures = report(
    'POST /v25.0/{ig-id}/media (image)',
    await autocannon({
      url: `${base}/v25.0/${IG_ACCOUNT}/media`,
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: createBody,
      connections,
      duration: seconds,
    }),
  );
  failures += report(
    'GET /v25.0/{container}?fields=status',
    await autocannon({
      url: `${base}/v25.0/${containerId}?fields=status_code,status&access_token=${encodeURIComponent(token)}`,
      connections,
      duration: seconds,
    }),
  );
  if (failures > 0) process.exitCode = 1;
} finally {
  child.kill('SIGTERM');
}
