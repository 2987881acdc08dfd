// Loads a model directory, importing onnxruntime-node only then: an agent that serves no model
// never maps onnxruntime's library nor creates its environment (issue 22: about 15 MB of
// private memory and 30 MB of RSS per agent pod, bench/pi.mjs).
import type { LoadedModel } from './model.js';

export async function loadModel(dir: string): Promise<LoadedModel> {
  const { LoadedModel } = await import('./model.js');
  return LoadedModel.load(dir);
}
