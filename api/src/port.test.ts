import { expect, test } from '@jest/globals';
import { parsePort, PortError } from './port.js';

test('a port is decimal digits from 1 to 65535', () => {
  expect(parsePort('1', { option: 'PGPORT' })).toBe(1);
  expect(parsePort('5432', { option: 'PGPORT' })).toBe(5432);
  expect(parsePort('65535', { option: 'PGPORT' })).toBe(65535);
});

test('port 0 only where the system may choose one', () => {
  expect(parsePort('0', { option: '--metrics-port', allowZero: true })).toBe(0);
  const refused = parsePort('0', { option: 'SMTP_PORT' });
  expect(refused).toBeInstanceOf(PortError);
  expect((refused as PortError).message).toBe(
    'SMTP_PORT: not a port: 0 (a whole number from 1 to 65535)',
  );
});

test.each(['', ' ', 'eighty', '80.5', '-1', '65536', '1e3', '0x50', ' 80', '123456'])(
  '%j is not a port, and the error names the option',
  (text) => {
    const error = parsePort(text, { option: '--port', allowZero: true });
    expect(error).toBeInstanceOf(PortError);
    expect((error as PortError).message).toBe(
      `--port: not a port: ${text} (a whole number from 0 to 65535)`,
    );
  },
);
