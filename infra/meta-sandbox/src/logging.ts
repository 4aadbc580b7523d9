// Its own redactor, not @postwire/core's: the sandbox stands in for Meta, so it shares no behaviour with the product it tests.
/**
 * Query parameters whose values never reach a log line: tokens, secrets, OAuth codes and PKCE
 * verifiers (a verifier with its code is as good as a token).
 */
const SECRET_PARAMS = /([?&](?:access_token|client_secret|code|code_verifier|fb_exchange_token|input_token|appsecret_proof)=)[^&]*/g;

export function redactSandboxUrl(url: string): string {
  return url.replace(SECRET_PARAMS, '$1[redacted]');
}

/** The sandbox's pino options: request lines without secrets, no Authorization header. */
export function sandboxLoggerOptions(level: string) {
  return {
    level,
    redact: ['req.headers.authorization'],
    serializers: {
      req: (request: { method: string; url: string }) => ({ method: request.method, url: redactSandboxUrl(request.url) }),
    },
  };
}
