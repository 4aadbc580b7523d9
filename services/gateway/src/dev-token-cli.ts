// Prints a bearer token for local use, signed with the configured JWT_SECRET (HS256 only):
//   node services/gateway/src/dev-token-cli.ts --user <uuid> --organisation <uuid> [--expires 12h]
// `./postwire token` seeds the demo organisation and user and calls this for them.
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { loadConfig } from '@postwire/config';
import { authFields, signDevelopmentToken } from '@postwire/auth';

const { values } = parseArgs({
  options: { user: { type: 'string' }, organisation: { type: 'string' }, expires: { type: 'string', default: '12h' } },
});
const args = z
  .object({ user: z.uuid(), organisation: z.uuid(), expires: z.string().regex(/^\d+[smhd]$/) })
  .safeParse(values);
const env = loadConfig(z.object(authFields).required({ JWT_SECRET: true }), process.env);

if (!args.success) {
  console.error('usage: dev-token-cli.ts --user <uuid> --organisation <uuid> [--expires 12h]');
  process.exitCode = 2;
} else {
  console.log(
    await signDevelopmentToken({
      secret: env.JWT_SECRET,
      userId: args.data.user,
      organisationId: args.data.organisation,
      organisationClaim: env.JWT_ORGANISATION_CLAIM,
      audience: env.JWT_AUDIENCE,
      expiresIn: args.data.expires,
      ...(env.JWT_ISSUER ? { issuer: env.JWT_ISSUER } : {}),
    }),
  );
}
