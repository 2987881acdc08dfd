// `kubectl edgewarden anomaly ID`: one anomaly in detail (describe layout), or -o json|yaml.
import { podAnomaly } from './agentApi.js';
import { anomalyTarget } from './anomalyTarget.js';
import { anomalyItem } from './anomalyRows.js';
import type { CommandRun } from './context.js';
import { describeAnomaly } from './describe.js';
import { documentText } from './output.js';

export const anomalyCommand: CommandRun = async (c) => {
  const { id, agent, target } = await anomalyTarget(c, 'viewer');
  const anomaly = await podAnomaly(c.client, target, id.id);
  const listed = { namespace: c.namespace, analysisAgent: agent, pod: id.pod, anomaly };
  const format = c.flags.output;
  c.io.out(
    format === 'json' || format === 'yaml'
      ? documentText(anomalyItem(listed), format)
      : describeAnomaly(listed, c.now()),
  );
  return 0;
};
