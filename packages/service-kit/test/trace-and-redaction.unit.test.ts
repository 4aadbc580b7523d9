import { describe, expect, it } from 'vitest';
import { childTraceContext, formatTraceparent, parseTraceparent } from '../src/index.ts';

describe('W3C trace context', () => {
  it('parses a valid traceparent and rejects malformed or all-zero ones', () => {
    expect(parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')).toEqual({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      parentId: '00f067aa0ba902b7',
      flags: '01',
    });
    expect(parseTraceparent('00-00000000000000000000000000000000-00f067aa0ba902b7-01')).toBeUndefined();
    expect(parseTraceparent('garbage')).toBeUndefined();
    expect(parseTraceparent(undefined)).toBeUndefined();
  });

  it('a child keeps the trace id and gets a span id of its own', () => {
    const parent = parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
    const child = childTraceContext(parent);
    expect(child.traceId).toBe(parent?.traceId);
    expect(child.parentId).not.toBe(parent?.parentId);
    expect(formatTraceparent(child)).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
  });

  it('starts a new trace when there is none', () => {
    expect(formatTraceparent(childTraceContext())).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  it('draws every id afresh, across the blocks its random bytes come in', () => {
    // 4 KiB blocks, 24 bytes per context: 1,000 contexts span several refills.
    const contexts = Array.from({ length: 1_000 }, () => childTraceContext());
    expect(new Set(contexts.map((context) => context.traceId)).size).toBe(1_000);
    expect(new Set(contexts.map((context) => context.parentId)).size).toBe(1_000);
    for (const context of contexts) expect(formatTraceparent(context)).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });
});
