export { createAuthenticator, type AgentPrincipal, type Authenticator } from './authenticate.ts';
export { addAgent, listAgents, revokeAgent, type AgentSpec, type AgentSummary } from './agents.ts';
export { issueAdminToken } from './admin-tokens.ts';
export { credentialFromAuthorization } from './credentials.ts';
export { parseDuration } from './duration.ts';
export { createOidcVerifier, looksLikeJwt, type OidcProviderConfig, type OidcVerifier } from './oidc.ts';
export { generateToken, hashToken, redactToken } from './token.ts';
