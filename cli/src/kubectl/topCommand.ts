// `kubectl edgewarden top devices`: the devices with most anomalies over --since (default 24h,
// every status), per namespace.
import { gatherAnomalies } from './anomaliesCommand.js';
import { CommandError, scope, warned, type CommandRun } from './context.js';
import { anomalyFilters } from './filters.js';
import { documentText, listOf, nothingFound, tableText } from './output.js';
import { deviceFigures, deviceTable } from './topDevices.js';

export const topDevicesCommand: CommandRun = async (c) => {
  const filters = anomalyFilters(c.flags, c.now(), { status: 'all', since: '24h' });
  if (!filters.ok) throw new CommandError(filters.error);
  const { anomalies, warnings } = await gatherAnomalies(c, filters.value);
  const figures = deviceFigures(anomalies);
  const format = c.flags.output;
  if (format === 'json' || format === 'yaml') c.io.out(documentText(listOf(figures), format));
  else if (figures.length === 0) c.io.err(nothingFound('anomalies', scope(c)));
  else c.io.out(tableText(deviceTable(figures, c.flags.allNamespaces)));
  return warned(c, warnings);
};
