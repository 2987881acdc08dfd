// The SMTP URL an agent builds from the parts an AnalysisAgent's SMTP Secret holds.
import { smtpUrlFromParts } from './config.js';

test('SMTP parts become one URL, credentials escaped, TLS and port defaults applied', () => {
  expect(
    smtpUrlFromParts({
      EDGEWARDEN_SMTP_HOST: 'mail.example.net',
      EDGEWARDEN_SMTP_USERNAME: 'alerts@example.net',
      EDGEWARDEN_SMTP_PASSWORD: 'p@ss:w/rd',
    }),
  ).toBe('smtp://alerts%40example.net:p%40ss%3Aw%2Frd@mail.example.net:587');
  expect(
    smtpUrlFromParts({ EDGEWARDEN_SMTP_HOST: 'mail.example.net', EDGEWARDEN_SMTP_TLS: 'true' }),
  ).toBe('smtps://mail.example.net:465');
  expect(smtpUrlFromParts({ EDGEWARDEN_SMTP_HOST: 'mx', EDGEWARDEN_SMTP_PORT: '2525' })).toBe(
    'smtp://mx:2525',
  );
  expect(() => smtpUrlFromParts({ EDGEWARDEN_SMTP_HOST: 'a b' })).toThrow(/EDGEWARDEN_SMTP_HOST/);
  expect(() =>
    smtpUrlFromParts({ EDGEWARDEN_SMTP_HOST: 'mx', EDGEWARDEN_SMTP_TLS: 'yes' }),
  ).toThrow(/EDGEWARDEN_SMTP_TLS: must be true or false/);
  expect(() =>
    smtpUrlFromParts({ EDGEWARDEN_SMTP_HOST: 'mx', EDGEWARDEN_SMTP_PORT: '99999' }),
  ).toThrow(/EDGEWARDEN_SMTP_PORT/);
});
