// The credentials of a request to the API server: a bearer token (as given, or from a file its
// owner rotates), basic auth, or what an exec credential plugin of
// client.authentication.k8s.io/v1 or v1beta1 prints (a token or a client certificate), each
// fetched again when it expires or the server refuses it. Nothing here logs or puts into an
// error message a token or a key.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';

/** How long a token read from a file is used before the file is read again. */
const TOKEN_FILE_TTL_MS = 60_000;
/** An exec credential is fetched again this long before it expires. */
const EXEC_EXPIRY_MARGIN_MS = 10_000;
const EXEC_TIMEOUT_MS = 60_000;

/** A kubeconfig user's exec section. */
export interface ExecConfig {
  apiVersion?: string;
  command?: string;
  args?: string[];
  env?: { name: string; value: string }[] | null;
  provideClusterInfo?: boolean;
  interactiveMode?: 'Never' | 'IfAvailable' | 'Always';
  [field: string]: unknown;
}

/** What authenticates a request: a bearer token, basic auth, a client certificate. */
export interface Credential {
  token?: string;
  basic?: string;
  cert?: Buffer;
  key?: Buffer;
}

export interface Credentials {
  get(): Promise<Credential>;
  invalidate?(): void;
}

/** A file's bytes; the error names `what` it is and why it cannot be read, never its contents. */
export async function readFileOrThrow(file: string, what: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(
      `${what}: cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : (code ?? String(error))}`,
    );
  }
}

/** A token in a file that its owner rotates: read again once it is a minute old. */
export class TokenFile implements Credentials {
  private token: string | undefined;
  private readAt = 0;

  constructor(private readonly file: string) {}

  async read(): Promise<string> {
    const token = (await readFileOrThrow(this.file, 'the token file')).toString('utf8').trim();
    if (!token) throw new Error(`the token file ${this.file} is empty`);
    this.token = token;
    this.readAt = Date.now();
    return token;
  }

  async get(): Promise<Credential> {
    if (this.token !== undefined && Date.now() - this.readAt < TOKEN_FILE_TTL_MS)
      return { token: this.token };
    try {
      return { token: await this.read() };
    } catch (error) {
      // Rotation replaces the file atomically, but keep the last token over a passing fault.
      if (this.token !== undefined) return { token: this.token };
      throw error;
    }
  }

  invalidate(): void {
    this.readAt = 0;
  }
}

const EXEC_API_VERSIONS = [
  'client.authentication.k8s.io/v1',
  'client.authentication.k8s.io/v1beta1',
];

interface ExecCredentialStatus {
  token?: string;
  clientCertificateData?: string;
  clientKeyData?: string;
  expirationTimestamp?: string;
}

/** An exec credential plugin: run it, use what it prints until it expires. */
export class ExecPlugin implements Credentials {
  private cached: { credential: Credential; expires: number } | undefined;
  private pending: Promise<Credential> | undefined;

  constructor(
    private readonly exec: ExecConfig,
    private readonly where: string,
    private readonly cluster: Record<string, unknown>,
  ) {
    if (!exec.command) throw new Error(`${where}: exec has no command`);
    if (!exec.apiVersion || !EXEC_API_VERSIONS.includes(exec.apiVersion))
      throw new Error(
        `${where}: exec apiVersion ${exec.apiVersion ?? '(none)'} is not supported (${EXEC_API_VERSIONS.join(', ')})`,
      );
    if (exec.interactiveMode === 'Always')
      throw new Error(
        `${where}: exec interactiveMode Always needs a terminal, which we never have`,
      );
  }

  get(): Promise<Credential> {
    if (this.cached && Date.now() < this.cached.expires)
      return Promise.resolve(this.cached.credential);
    this.pending ??= this.run().finally(() => (this.pending = undefined));
    return this.pending;
  }

  invalidate(): void {
    this.cached = undefined;
  }

  private async run(): Promise<Credential> {
    const exec = this.exec;
    const command = exec.command!;
    const info = {
      apiVersion: exec.apiVersion,
      kind: 'ExecCredential',
      spec: {
        interactive: false,
        ...(exec.provideClusterInfo ? { cluster: stripUndefined(this.cluster) } : {}),
      },
    };
    const env: NodeJS.ProcessEnv = { ...process.env, KUBERNETES_EXEC_INFO: JSON.stringify(info) };
    for (const { name, value } of exec.env ?? []) env[name] = value;
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(
        command,
        exec.args ?? [],
        { env, timeout: EXEC_TIMEOUT_MS, maxBuffer: 1 << 20, encoding: 'utf8' },
        (error, out, err) => {
          if (error) {
            const detail = err.trim().split('\n').slice(-3).join(' | ').slice(0, 300);
            reject(
              new Error(
                `${this.where}: exec plugin ${command} failed: ${error.message.split('\n')[0]}${detail ? `: ${detail}` : ''}`,
              ),
            );
          } else resolve(out);
        },
      );
    });
    let response: { apiVersion?: string; kind?: string; status?: ExecCredentialStatus };
    try {
      response = JSON.parse(stdout) as typeof response;
    } catch {
      throw new Error(`${this.where}: exec plugin ${command} printed no JSON ExecCredential`);
    }
    if (response.kind !== 'ExecCredential' || response.apiVersion !== exec.apiVersion)
      throw new Error(
        `${this.where}: exec plugin ${command} printed ${response.kind ?? 'no kind'} ${response.apiVersion ?? ''}, not an ExecCredential of ${exec.apiVersion}`,
      );
    const status = response.status ?? {};
    const credential: Credential = {};
    if (status.token) credential.token = status.token;
    if (status.clientCertificateData || status.clientKeyData) {
      if (!status.clientCertificateData || !status.clientKeyData)
        throw new Error(
          `${this.where}: exec plugin ${command} printed a client certificate without its key, or a key without its certificate`,
        );
      credential.cert = Buffer.from(status.clientCertificateData);
      credential.key = Buffer.from(status.clientKeyData);
    }
    if (!credential.token && !credential.cert)
      throw new Error(
        `${this.where}: exec plugin ${command} printed neither a token nor a client certificate`,
      );
    let expires = Number.POSITIVE_INFINITY;
    if (status.expirationTimestamp) {
      const at = Date.parse(status.expirationTimestamp);
      if (Number.isNaN(at))
        throw new Error(
          `${this.where}: exec plugin ${command} printed an expirationTimestamp that is not a time: ${status.expirationTimestamp}`,
        );
      expires = at - EXEC_EXPIRY_MARGIN_MS;
    }
    this.cached = { credential, expires };
    return credential;
  }
}

function stripUndefined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}
