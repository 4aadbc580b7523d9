import { columnContext } from '@postwire/crypto';

/** Binds an endpoint's encrypted signing secret to its row and column (AAD). */
export function endpointSecretContext(endpointId: string): string {
  return columnContext('gateway.webhook_endpoints', endpointId, 'secret');
}
