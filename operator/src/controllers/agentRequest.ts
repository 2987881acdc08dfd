// Moved to domain/agentRequest.ts (shared by every controller); this re-export stays only until
// the ModelDeployment controller imports it from there.
export * from '../domain/agentRequest.js';
