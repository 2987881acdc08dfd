// Where one data type's records go: its series of files and the checks that count them. A
// record passes the checks (shaped, in the window) before it reaches a file; what the
// checkpoint holds of both is where a resumed run picks them up again.
import type { DataTypeState } from './checkpoint.js';
import { FileSeries } from './files.js';
import { encoderFor } from './formats.js';
import type { DataType, ExportSettings } from './plan.js';
import type { Shaped } from './records.js';
import { emptyValidation, Validator } from './validation.js';

export interface Output {
  type: DataType;
  series: FileSeries;
  validator: Validator;
}

/**
 * The files and checks of one data type: new, or as a checkpoint left them (a file that does
 * not match it is a ResumeError, and the run starts afresh).
 */
export async function openOutput(
  s: ExportSettings,
  dir: string,
  type: DataType,
  fields: string[],
  saved: DataTypeState | undefined,
): Promise<Output> {
  const encoder = encoderFor(s.format, fields);
  const prefix = `${s.name}-${type}`;
  const compress = s.compression === 'gzip';
  const series = saved
    ? await FileSeries.resume(dir, prefix, encoder, compress, s.maxFileSize, saved.series)
    : FileSeries.create(dir, prefix, encoder, compress, s.maxFileSize);
  const validator = new Validator(fields, ['id'], saved?.validation ?? emptyValidation(fields));
  return { type, series, validator };
}

/** One record through the checks into its file; a promise only when a file begins or ends. */
export function writeRecord(
  s: ExportSettings,
  { series, validator }: Output,
  shaped: Shaped,
): Promise<void> | undefined {
  validator.row();
  if (!shaped.ok) return void validator.reject(shaped.reason);
  if (shaped.time < s.from.ms || shaped.time >= s.to.ms) return void validator.outOfRange();
  validator.written(shaped.record, shaped.timeKey);
  return series.add(shaped.record);
}
