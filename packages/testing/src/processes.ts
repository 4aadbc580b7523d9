// Process plumbing for the benchmarks: they run as plain node scripts, each service a child process of its
// own, so this module must not import vitest (index.ts does, through the provided context).
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { migrateAll, prepareDatabase } from '@postwire/db';

const started: ChildProcess[] = [];
// Whatever way the script ends, no child outlives it.
process.on('exit', () => started.forEach((child) => child.kill('SIGKILL')));

/** A port nothing listens on now, for a child to listen on. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || !address) throw new Error('no free port');
  return address.port;
}

/** Thrown by waitForHealthy when the child it watches exits before answering. */
export class ExitedError extends Error {}

/** Waits until `url` answers 2xx, polling every 100 ms; fails early when `child` exits first. */
export async function waitForHealthy(url: string, what: string, options: { child?: ChildProcess; timeoutMs?: number } = {}): Promise<void> {
  const { child, timeoutMs = 60_000 } = options;
  for (let attempt = 0; attempt < timeoutMs / 100; attempt += 1) {
    if (child && child.exitCode !== null) throw new ExitedError(`${what} exited while starting`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`${what} did not start`);
}

/**
 * Node running `entry` in a child process with `env` over this process's environment. Its stdout is dropped
 * (log lines are written, which is part of the cost being measured, but not kept); its stderr is ours.
 */
export function startNode(entry: URL, env: Record<string, string>, flags: readonly string[] = []): ChildProcess {
  const child = spawn(process.execPath, [...flags, fileURLToPath(entry)], {
    // eslint-disable-next-line no-restricted-syntax -- passed on whole, as spawn does without `env`; nothing is read from it
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  started.push(child);
  return child;
}

/** Stops a child with `signal`, killing it when it has not exited 15 s later. */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  await Promise.race([exited, sleep(15_000).then(() => child.kill('SIGKILL'))]);
}

/** Stops every child startNode started. */
export async function stopAll(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  await Promise.all(started.map((child) => stopChild(child, signal)));
}

/** Kills every child startNode started that is still running. */
export function killAll(): void {
  started.forEach((child) => child.exitCode === null && child.kill('SIGKILL'));
}

// CPU time (user + system) processes have used, from /proc: what a run costs each process, however busy the
// machine is with other work (wall-clock figures on a shared 2-core machine say less).
const TICK_MS = 10; // USER_HZ is 100 on Linux

/** CPU ms a process has used; 0 when it is unknown or gone. */
export function cpuMs(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    // After the command name: state is field 3, utime 14 and stime 15 (1-based over the whole line).
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return 0;
  }
}

/** CPU ms used by every running process whose command is `command` (e.g. postgres, java). */
export function cpuMsByCommand(command: string): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === command) total += cpuMs(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

/** The URL of `database` on the server `server` points at. */
export const databaseUrl = (server: string, database: string): string => Object.assign(new URL(server), { pathname: `/${database}` }).toString();

/** A database of the bench's own on `server`, every service's migrations applied; answers its owner URL. */
export async function createBenchDatabase(server: string, database: string): Promise<string> {
  const url = databaseUrl(server, database);
  await prepareDatabase(url);
  await migrateAll(url, 'up');
  return url;
}

/** Drops a bench's database, whoever is still connected to it. */
export async function dropDatabase(server: string, database: string): Promise<void> {
  const maintenance = new pg.Client({ connectionString: databaseUrl(server, 'postgres') });
  await maintenance.connect();
  await maintenance.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(database)} WITH (FORCE)`);
  await maintenance.end();
}

/**
 * The Meta sandbox (infra/meta-sandbox) in a child process on a free port, its call budgets out of any run's reach
 * and images processed at once; resolves once it answers.
 */
export async function startSandboxProcess(env: Record<string, string> = {}): Promise<{ readonly url: string; readonly child: ChildProcess }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = startNode(new URL('../../../infra/meta-sandbox/src/server.ts', import.meta.url), {
    META_SANDBOX_PORT: String(port),
    META_SANDBOX_LOG_LEVEL: 'warn',
    META_SANDBOX_APP_CALL_BUDGET: '1000000000',
    META_SANDBOX_BUC_CALL_BUDGET: '1000000000',
    META_SANDBOX_IMAGE_PROCESSING_MS: '0',
    ...env,
  });
  await waitForHealthy(`${url}/_sandbox/health`, 'the sandbox', { child });
  return { url, child };
}

/** A call to the sandbox's control API (/_sandbox/...), failing on any error answer. */
export async function sandboxCall(base: string, path: string, body: unknown, method = 'POST'): Promise<unknown> {
  const answer = await fetch(`${base}/_sandbox${path}`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!answer.ok) throw new Error(`sandbox ${path}: ${answer.status} ${await answer.text()}`);
  return answer.json();
}
