export { authEnvironment, authFields, checkAuthFields, toAuthSettings, type AuthSettings } from './config.ts';
export { AuthError, bearerToken, createJwtVerifier, type Caller, type JwtVerifier, type JwtVerifierOptions } from './verifier.ts';
export { authPlugin, callerOf, type AuthPluginOptions } from './plugin.ts';
export { signDevelopmentToken } from './dev-token.ts';
export { cachedOrganisationOf, type MembershipCacheOptions, type OrganisationOf } from './membership.ts';
