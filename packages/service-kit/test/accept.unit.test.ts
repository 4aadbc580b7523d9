import { describe, expect, it } from 'vitest';
import { acceptsAny } from '../src/problem.ts';

describe('acceptsAny: an Accept header read as RFC 9110 §12.5.1 says', () => {
  it.each([
    ['the exact type', 'application/json', ['application/json'], true],
    ['another type only', 'text/csv', ['application/json'], false],
    ['*/*', '*/*', ['application/json'], true],
    ['type/*', 'application/*', ['application/json'], true],
    ['another type/*', 'text/*', ['application/json'], false],
    ['one of several produced', 'text/*', ['application/json', 'text/html'], true],
    ['case-insensitive', 'Application/JSON', ['application/json'], true],
    ['parameters on the produced type are ignored', 'application/json', ['application/json; charset=utf-8'], true],
    ['parameters on the range are ignored', 'text/html;level=1', ['text/html'], true],
    ['whitespace around ranges and weights', ' text/csv ;  q = 0.5 , application/json ; q=1 ', ['application/json'], true],
    ['q=0 refuses', 'application/json;q=0', ['application/json'], false],
    ['the least weight above 0 accepts', 'application/json; q=0.001', ['application/json'], true],
    ['q=0 on the exact type wins over */*', '*/*;q=0.1, application/json;q=0', ['application/json'], false],
    ['the exact type wins over a refused type/*', 'application/*;q=0, application/json', ['application/json'], true],
    ['type/* wins over */*', '*/*;q=0, application/*;q=0.2', ['application/json'], true],
    ['a range without a subtype is ignored', 'application', ['application/json'], false],
    ['nonsense takes nothing', 'garbage', ['application/json'], false],
    ['a malformed weight counts as none given', 'application/json;q=x', ['application/json'], true],
    ['no ranges at all', ',,', ['application/json'], false],
  ])('%s: %j of %j -> %s', (_case, accept, produced, expected) => {
    expect(acceptsAny(accept, produced)).toBe(expected);
  });
});
