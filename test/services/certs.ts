// Certificates for the test servers, made with openssl: a CA, and keys with certificates it
// signs. EC P-256 keys, valid 30 days; all files land in one folder.
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

async function openssl(dir: string, ...args: string[]): Promise<void> {
  await run('openssl', args, { cwd: dir });
}

/** A self-signed CA in `dir`: ca.key and ca.crt. */
export async function createCa(dir: string, commonName: string): Promise<void> {
  await openssl(
    dir,
    'req',
    '-x509',
    ...EC_KEY,
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '30',
    '-subj',
    `/CN=${commonName}`,
  );
}

/**
 * `<name>.key` and `<name>.crt`, signed by the CA in `dir`, with the given subject and
 * X.509 extensions (for example "subjectAltName=IP:127.0.0.1" or "extendedKeyUsage=clientAuth").
 */
export async function issueCertificate(
  dir: string,
  name: string,
  subject: string,
  extensions: string,
): Promise<void> {
  await writeFile(path.join(dir, `${name}.ext`), `${extensions}\n`);
  await openssl(
    dir,
    'req',
    '-new',
    ...EC_KEY,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
    '-subj',
    subject,
  );
  await openssl(
    dir,
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    `${name}.crt`,
    '-days',
    '30',
    '-extfile',
    `${name}.ext`,
  );
}
