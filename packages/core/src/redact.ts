/**
 * Field names whose values are credentials: tokens, secrets, OAuth codes and PKCE verifiers (a verifier
 * with its code is as good as a token). The logger redacts them as object fields; as query parameters
 * they are redacted by redactUrl.
 */
export const SECRET_FIELDS = [
  'access_token', 'accessToken', 'refresh_token', 'refreshToken', 'token', 'client_secret', 'clientSecret',
  'appsecret_proof', 'password', 'secret', 'code', 'code_verifier', 'fb_exchange_token', 'input_token',
  // Stream tickets (the gateway's GET /v1/events?ticket=): short-lived, but they open a stream.
  'ticket',
] as const;

/** Query parameters whose values never reach a message or a log line: the fields above, plus the OAuth
 * `state` (it binds a login to its session) and the webhook handshake's `hub.verify_token`. */
const SECRET_QUERY_PARAMETERS: ReadonlySet<string> = new Set([...SECRET_FIELDS, 'state', 'hub.verify_token']);

export type RedactUrlOptions = {
  /**
   * Show the query decoded (`access_token=[redacted]`, readable ids) for messages; by default it stays
   * percent-encoded as a request line is (`access_token=%5Bredacted%5D`).
   */
  readonly decode?: boolean;
};

/**
 * `http://host/v25.0/me?access_token=EAAU…&fields=id` -> `/v25.0/me?access_token=%5Bredacted%5D&fields=id`:
 * the path (as given, not normalised) and the query with every secret parameter's value replaced. Scheme,
 * host and fragment are dropped: the host is configuration, and a fragment never reaches a server.
 * Accepts a URL without changing it (the caller may still have to send it).
 */
export function redactUrl(url: string | URL, options: RedactUrlOptions = {}): string {
  const text = typeof url === 'string' ? url : url.href;
  const withoutFragment = text.split('#', 1)[0] ?? '';
  const pathAndQuery = withoutFragment.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?]*/i, '');
  const queryStart = pathAndQuery.indexOf('?');
  if (queryStart === -1) return pathAndQuery;
  const params = new URLSearchParams(pathAndQuery.slice(queryStart + 1));
  for (const key of [...params.keys()]) {
    if (SECRET_QUERY_PARAMETERS.has(key)) params.set(key, '[redacted]');
  }
  const query = params.toString();
  const shown = options.decode === true ? decodeURIComponent(query) : query;
  return `${pathAndQuery.slice(0, queryStart)}${shown ? `?${shown}` : ''}`;
}
