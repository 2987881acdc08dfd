// The body of POST /anomalies/:id/status (issue 21), checked before the store is touched:
// {"status": "...", "note"?: string, "by"?: string}, nothing else. Pure.
import { CLIENT_STATUSES, isAnomalyStatus } from '../store/anomalyStatus.js';
import type { StatusChange } from '../store/anomalyTriage.js';

/** Largest body read at all; the largest valid one (1024 + 256 characters of text) fits. */
export const MAX_STATUS_BODY_BYTES = 4 * 1024;
export const MAX_NOTE_CHARS = 1024;
export const MAX_BY_CHARS = 256;

const FIELDS = new Set(['status', 'note', 'by']);

export type ParsedStatusChange =
  { ok: true; change: StatusChange } | { ok: false; message: string };

/** The status change a body asks for, or what is wrong with it, naming the field. */
export function parseStatusChange(body: unknown): ParsedStatusChange {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return { ok: false, message: 'the body must be a JSON object {"status", "note"?, "by"?}' };
  const fields = body as Record<string, unknown>;
  const unknown = Object.keys(fields).find((k) => !FIELDS.has(k));
  if (unknown !== undefined)
    return { ok: false, message: `${unknown}: unknown field (status, note and by are known)` };
  const { status, note, by } = fields;
  if (status === 'suppressed')
    return {
      ok: false,
      message:
        'status: suppressed is set by the agent when an Alertmanager silence matches, not by a request',
    };
  if (!isAnomalyStatus(status))
    return { ok: false, message: `status: required, one of ${CLIENT_STATUSES.join(', ')}` };
  if (note !== undefined && (typeof note !== 'string' || note.length > MAX_NOTE_CHARS))
    return { ok: false, message: `note: a string of at most ${MAX_NOTE_CHARS} characters` };
  if (by !== undefined && (typeof by !== 'string' || by.length > MAX_BY_CHARS))
    return { ok: false, message: `by: a string of at most ${MAX_BY_CHARS} characters` };
  return {
    ok: true,
    change: {
      status,
      ...(note === undefined ? {} : { note }),
      ...(by === undefined ? {} : { by }),
    },
  };
}

/** An anomaly id from a path: a positive whole number, or undefined. */
export function anomalyIdOf(text: string): number | undefined {
  if (!/^[1-9]\d{0,15}$/.test(text)) return undefined;
  const id = Number(text);
  return Number.isSafeInteger(id) ? id : undefined;
}
