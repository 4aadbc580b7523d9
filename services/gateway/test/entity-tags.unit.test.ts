import { describe, expect, it } from 'vitest';
import {
  type EntityTag,
  type TagCondition,
  acceptedVersions,
  formatEntityTag,
  matchHolds,
  noneMatchHolds,
  parseEntityTag,
  parseTagCondition,
  representationTag,
  strongMatch,
  weakMatch,
} from '../src/domain/entity-tags.ts';

const strong = (opaque: string): EntityTag => ({ weak: false, opaque });
const weak = (opaque: string): EntityTag => ({ weak: true, opaque });
const tags = (...list: EntityTag[]): TagCondition => ({ any: false, tags: list });
const ANY: TagCondition = { any: true };

function conditionOf(field: string | readonly string[]): TagCondition | undefined {
  const parsed = parseTagCondition(field);
  if (!parsed.ok) throw new Error(`refused: ${parsed.message}`);
  return parsed.condition;
}

describe('entity tags (RFC 9110 §8.8.3)', () => {
  it('formats strong and weak tags with their quotes', () => {
    expect(formatEntityTag(strong('a1'))).toBe('"a1"');
    expect(formatEntityTag(weak('a1'))).toBe('W/"a1"');
    expect(formatEntityTag(strong(''))).toBe('""');
  });

  it('reads one ETag value back, and nothing that is not exactly one valid tag', () => {
    expect(parseEntityTag('"17649123456789"')).toEqual(strong('17649123456789'));
    expect(parseEntityTag('W/"x"')).toEqual(weak('x'));
    expect(parseEntityTag('""')).toEqual(strong(''));
    for (const value of [undefined, null, '', 'x', '"x', 'x"', ' "x"', '"x" ', 'w/"x"', '"a b"', '"a"b"', '"x","y"', '"\u0001"']) {
      expect(parseEntityTag(value), String(value)).toBeUndefined();
    }
  });

  it('compares strongly only two strong tags of the same opaque part, weakly any two of it', () => {
    expect(strongMatch(strong('1'), strong('1'))).toBe(true);
    expect(strongMatch(weak('1'), strong('1'))).toBe(false);
    expect(strongMatch(strong('1'), weak('1'))).toBe(false);
    expect(strongMatch(weak('1'), weak('1'))).toBe(false);
    expect(strongMatch(strong('1'), strong('2'))).toBe(false);
    // The RFC's own table (§8.8.3.2).
    expect(weakMatch(weak('1'), weak('1'))).toBe(true);
    expect(weakMatch(weak('1'), weak('2'))).toBe(false);
    expect(weakMatch(weak('1'), strong('1'))).toBe(true);
    expect(weakMatch(strong('1'), strong('1'))).toBe(true);
  });

  it('hashes exact bytes into a strong tag: the same bytes the same tag, one byte more another', () => {
    const tag = representationTag('{"data":[]}');
    expect(tag.weak).toBe(false);
    expect(tag.opaque).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(representationTag(Buffer.from('{"data":[]}'))).toEqual(tag);
    expect(representationTag('{"data":[] }')).not.toEqual(tag);
    expect(parseEntityTag(formatEntityTag(tag))).toEqual(tag);
  });
});

describe('If-Match / If-None-Match fields (RFC 9110 §13.1.1-2)', () => {
  it('is no condition when absent, and * alone (with whitespace) is any', () => {
    expect(parseTagCondition(undefined)).toEqual({ ok: true, condition: undefined });
    expect(conditionOf('*')).toEqual(ANY);
    expect(conditionOf(' * ')).toEqual(ANY);
  });

  it('reads a list of strong and weak tags, with whitespace and empty elements around them', () => {
    expect(conditionOf('"a"')).toEqual(tags(strong('a')));
    expect(conditionOf('"a", W/"b",\t"c"')).toEqual(tags(strong('a'), weak('b'), strong('c')));
    expect(conditionOf(',"a",,  ,"b",')).toEqual(tags(strong('a'), strong('b')));
    expect(conditionOf('"a","b"')).toEqual(tags(strong('a'), strong('b')));
    expect(conditionOf('""')).toEqual(tags(strong('')));
    expect(conditionOf('')).toEqual(tags());
    expect(conditionOf('"!#~\u00e9"')).toEqual(tags(strong('!#~\u00e9')));
  });

  it('reads a field sent twice as one list', () => {
    expect(conditionOf(['"a"', 'W/"b"'])).toEqual(tags(strong('a'), weak('b')));
  });

  it('refuses what is not * or a list of quoted tags, saying what it should be', () => {
    for (const field of ['a', '"a" "b"', '"a"b', '"a', 'a"', 'w/"a"', 'W/ "a"', '*, "a"', '"a", *', '"a b"', '"a\u0007"', '"a";"b"']) {
      const parsed = parseTagCondition(field);
      expect(parsed.ok, field).toBe(false);
    }
    const unquoted = parseTagCondition('abc');
    expect(unquoted).toEqual({ ok: false, message: expect.stringContaining('quoted entity tags') });
    const spaced = parseTagCondition('"a b"');
    expect(spaced).toEqual({ ok: false, message: expect.stringContaining('no spaces') });
  });

  it('If-None-Match fails (a GET answers 304) when * meets a representation or a tag matches weakly', () => {
    expect(noneMatchHolds(ANY, strong('1'))).toBe(false);
    expect(noneMatchHolds(ANY, undefined)).toBe(true);
    expect(noneMatchHolds(tags(strong('0'), strong('1')), strong('1'))).toBe(false);
    expect(noneMatchHolds(tags(weak('1')), strong('1'))).toBe(false);
    expect(noneMatchHolds(tags(strong('0'), weak('2')), strong('1'))).toBe(true);
    expect(noneMatchHolds(tags(), strong('1'))).toBe(true);
    expect(noneMatchHolds(tags(strong('1')), undefined)).toBe(true);
  });

  it('If-Match holds for * when the resource exists, else only when a listed tag matches strongly', () => {
    expect(matchHolds(ANY, strong('1'))).toBe(true);
    expect(matchHolds(ANY, undefined)).toBe(false);
    expect(matchHolds(tags(strong('0'), strong('1')), strong('1'))).toBe(true);
    expect(matchHolds(tags(weak('1')), strong('1'))).toBe(false);
    expect(matchHolds(tags(strong('1')), weak('1'))).toBe(false);
    expect(matchHolds(tags(strong('0')), strong('1'))).toBe(false);
    expect(matchHolds(tags(), strong('1'))).toBe(false);
    expect(matchHolds(tags(strong('1')), undefined)).toBe(false);
  });

  it('hands a write the versions If-Match accepts: the strong tags, none for weak ones, undefined for *', () => {
    expect(acceptedVersions(ANY)).toBeUndefined();
    expect(acceptedVersions(tags(strong('1'), weak('2'), strong('3')))).toEqual(['1', '3']);
    expect(acceptedVersions(tags(weak('2')))).toEqual([]);
  });
});
