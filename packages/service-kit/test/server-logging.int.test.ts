import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { eventually } from '@postwire/testing';

describe('a server started by runServer', () => {
  it('writes its log lines asynchronously, redacted, and none is lost when it stops', async () => {
    const child = spawn(process.execPath, [fileURLToPath(new URL('./fixtures/logging-server.ts', import.meta.url))], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    try {
      const port = await eventually(() => /port (\d+)/.exec(stderr)?.[1], 'the server to listen', { timeoutMs: 30_000 });
      for (let index = 0; index < 50; index += 1) expect((await fetch(`http://127.0.0.1:${port}/hello`)).status).toBe(200);
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    } finally {
      child.kill('SIGKILL');
    }
    const lines = stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    const count = (message: string) => lines.filter((line) => line.message === message).length;
    expect({ incoming: count('incoming request'), said: count('said hello'), completed: count('request completed') }).toEqual({ incoming: 50, said: 50, completed: 50 });
    // The last line, written while the process was on its way out, is there too.
    expect(lines.at(-1)).toMatchObject({ message: 'shutting down', signal: 'SIGTERM' });
    expect(stdout).not.toContain('do-not-print');
    expect(lines.find((line) => line.message === 'said hello')).toMatchObject({ token: '[redacted]', service: 'logging-test' });
  });
});
