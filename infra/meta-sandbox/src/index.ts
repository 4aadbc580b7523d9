export { sandboxApp } from './app.ts';
export { buildSandbox, type BuiltSandbox } from './build.ts';
export { sandboxConfigSchema, type SandboxConfig } from './config.ts';
export { optionsFromConfig } from './options.ts';
export type { SandboxContext, SandboxOptions } from './context.ts';
export type { SeedInput } from './state/seed.ts';
export type { SandboxSettings } from './state/settings.ts';
export { signatures } from './domain/webhooks.ts';
