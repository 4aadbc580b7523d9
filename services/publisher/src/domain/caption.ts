/**
 * The text that reaches the platform: the caption with the hashtags column appended (without `#` in
 * the column, with it in the text). Meta's limits (2,200 characters, 30 hashtags, 20 mentions) apply to
 * this final text, so validation counts on it too.
 */
export function finalCaption(caption: string | null | undefined, hashtags: readonly string[] | null | undefined): string | undefined {
  const text = caption?.trim() ?? '';
  const tags = (hashtags ?? []).map((tag) => `#${tag}`);
  const missing = tags.filter((tag) => !containsWord(text, tag));
  const joined = missing.length === 0 ? text : text === '' ? missing.join(' ') : `${text}\n\n${missing.join(' ')}`;
  return joined === '' ? undefined : joined;
}

/** Hashtags and mentions as Instagram counts them: `#` or `@` followed by word characters, once each occurrence. */
export function countHashtags(text: string): number {
  return text.match(/(?:^|[^\p{L}\p{N}_&])#[\p{L}\p{N}_]+/gu)?.length ?? 0;
}

export function countMentions(text: string): number {
  return text.match(/(?:^|[^\p{L}\p{N}_.])@[\p{L}\p{N}_.]+/gu)?.length ?? 0;
}

function containsWord(text: string, tag: string): boolean {
  const escaped = tag.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(?:^|\\s)${escaped}(?=$|[\\s.,!?])`, 'iu').test(text);
}
