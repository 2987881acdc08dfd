// The options of the commands that read log lines into records (analyze, train, features): what
// to assume of a line that leaves out its device or its time zone.

export const lineOptions = {
  host: {
    type: 'string',
    value: 'NAME',
    help: 'device name for lines that carry none (default local)',
  },
  timezone: {
    type: 'string',
    value: 'ZONE',
    help: 'IANA zone of timestamps that carry none (default UTC)',
  },
} as const;

/** What is wrong with a --timezone value, or undefined when Intl knows the zone. */
export function timezoneProblem(zone: string | undefined): string | undefined {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return undefined;
  } catch {
    return `--timezone: unknown time zone: ${zone}`;
  }
}
