import { describe, expect, it } from 'vitest';
import { countHashtags, countMentions, finalCaption } from '../src/domain/caption.ts';

describe('final caption', () => {
  it('appends the hashtags column after a blank line, with #', () => {
    expect(finalCaption('Fresh bread', ['bakery', 'sourdough'])).toBe('Fresh bread\n\n#bakery #sourdough');
  });

  it('is the caption alone without hashtags, trimmed', () => {
    expect(finalCaption('  Fresh bread  ', [])).toBe('Fresh bread');
    expect(finalCaption('Fresh bread', null)).toBe('Fresh bread');
    expect(finalCaption('Fresh bread', undefined)).toBe('Fresh bread');
  });

  it('is the hashtags alone without a caption, and undefined with neither', () => {
    expect(finalCaption(null, ['bakery'])).toBe('#bakery');
    expect(finalCaption('   ', ['bakery', 'rye'])).toBe('#bakery #rye');
    expect(finalCaption(undefined, [])).toBeUndefined();
    expect(finalCaption('', null)).toBeUndefined();
  });

  it('does not repeat a hashtag the caption already has as a word (any case, before punctuation)', () => {
    expect(finalCaption('Our #Bakery opens', ['bakery', 'rye'])).toBe('Our #Bakery opens\n\n#rye');
    expect(finalCaption('#bakery', ['bakery'])).toBe('#bakery');
    expect(finalCaption('Love this #bakery!', ['bakery'])).toBe('Love this #bakery!');
    expect(finalCaption('Love this #bakery.', ['bakery'])).toBe('Love this #bakery.');
    expect(finalCaption('Love #bakery, #rye?', ['bakery', 'rye'])).toBe('Love #bakery, #rye?');
  });

  it('still appends a hashtag that is only part of a longer one, and escapes pattern characters', () => {
    expect(finalCaption('#bakerylife', ['bakery'])).toBe('#bakerylife\n\n#bakery');
    expect(finalCaption('x#bakery', ['bakery'])).toBe('x#bakery\n\n#bakery');
    expect(finalCaption('#a.b here', ['a.b'])).toBe('#a.b here');
    expect(finalCaption('#axb here', ['a.b'])).toBe('#axb here\n\n#a.b');
  });
});

describe('hashtag and mention counts', () => {
  it('counts each # followed by word characters, at the start or after a non-word character', () => {
    expect(countHashtags('')).toBe(0);
    expect(countHashtags('#one')).toBe(1);
    expect(countHashtags('#one #two,#three')).toBe(3);
    expect(countHashtags('a#b')).toBe(0);
    expect(countHashtags('&#38; #x')).toBe(1);
    expect(countHashtags('# alone')).toBe(0);
    expect(countHashtags('#café #日本')).toBe(2);
    expect(countHashtags('_#no')).toBe(0);
  });

  it('counts each @ followed by a username, not inside e-mail addresses', () => {
    expect(countMentions('')).toBe(0);
    expect(countMentions('@one')).toBe(1);
    expect(countMentions('@one and @two.three')).toBe(2);
    expect(countMentions('mail me at a@b.com')).toBe(0);
    expect(countMentions('.@no')).toBe(0);
    expect(countMentions('(@yes)')).toBe(1);
    expect(countMentions('@ alone')).toBe(0);
  });
});
