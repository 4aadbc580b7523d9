export { backoffDelay, type BackoffOptions } from './backoff.ts';
export { SECRET_FIELDS, redactUrl, type RedactUrlOptions } from './redact.ts';
