// The baseline models that ship with edgewarden (models/<agent>/, rebuilt by `npm run models`
// from committed data): what the demo, `analyze --model baseline` and a default install serve
// until a site trains its own.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import type { AgentName } from '../agents/types.js';
import type { LoadedModel } from './model.js';

/** models/ at the package root, from source (src/model) or from dist/ (dist/.../src/model). */
export const baselineModelsRoot = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  import.meta.url.includes('/dist/') ? '../../../../models' : '../../../models',
);

export function baselineModelDir(agent: AgentName): string | undefined {
  const dir = path.join(baselineModelsRoot, agent);
  return existsSync(path.join(dir, 'manifest.json')) ? dir : undefined;
}

/** Loads the shipped model of each agent that has one (onnxruntime is loaded only here). */
export async function loadBaselineModels(
  agents: readonly AgentName[],
): Promise<Partial<Record<AgentName, LoadedModel>>> {
  const { LoadedModel } = await import('./model.js');
  const models: Partial<Record<AgentName, LoadedModel>> = {};
  for (const agent of agents) {
    const dir = baselineModelDir(agent);
    if (dir) models[agent] = await LoadedModel.load(dir);
  }
  return models;
}
