// The benchmark's webhook receivers, in a process of their own (as real endpoints would be): BENCH_ENDPOINTS
// HTTP servers answering 204. Reports its URLs once listening, then every delivery as
// [endpoint index, webhook-id, epoch ms received], batched, over IPC.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const ENDPOINTS = Number(process.env.BENCH_ENDPOINTS ?? 10);
const now = () => performance.timeOrigin + performance.now();
let pending: [number, string, number][] = [];

const urls = await Promise.all(
  Array.from({ length: ENDPOINTS }, async (_, index) => {
    const server = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        pending.push([index, String(request.headers['webhook-id']), now()]);
        response.writeHead(204).end();
      });
    });
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/${index}`;
  }),
);
process.send?.({ urls });
setInterval(() => {
  if (pending.length === 0) return;
  process.send?.({ received: pending });
  pending = [];
}, 20);
process.on('disconnect', () => process.exit(0));
