// Certificates for the HTTPS tests (the mock store's TLS, the store doctor's TLS check). Imports nothing from src/, so
// the mock store's own tests can use it and stay independent of src/protocol.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';

/** A self-signed certificate for `host` (an IP or a name) via the openssl CLI; `expired` dates it in January 2020 (`openssl ca`). */
export function certificate(t: ExecutionContext, options: { host?: string; expired?: boolean } = {}): { key: string; cert: string } {
  const host = options.host ?? '127.0.0.1';
  const dir = mkdtempSync(join(tmpdir(), 'test-tls-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const at = (f: string): string => join(dir, f);
  const san = /^[\d.]+$/.test(host) ? `IP:${host}` : `DNS:${host}`;
  const run = (args: string[]): void => {
    execFileSync('openssl', args, { stdio: 'ignore', cwd: dir });
  };
  if (!options.expired) {
    run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${host}`, '-addext', `subjectAltName=${san}`, '-days', '30', '-keyout', at('key.pem'), '-out', at('cert.pem')]);
  } else {
    writeFileSync(at('index.txt'), '');
    writeFileSync(at('serial'), '01\n');
    writeFileSync(
      at('ca.cnf'),
      '[ca]\ndefault_ca=d\n[d]\ndir=.\ndatabase=index.txt\nserial=serial\nnew_certs_dir=.\ndefault_md=sha256\npolicy=p\ncopy_extensions=copy\n[p]\ncommonName=supplied\n',
    );
    run(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${host}`, '-addext', `subjectAltName=${san}`, '-keyout', at('key.pem'), '-out', at('req.pem')]);
    run(['ca', '-batch', '-config', at('ca.cnf'), '-selfsign', '-keyfile', at('key.pem'), '-in', at('req.pem'), '-startdate', '20200101000000Z', '-enddate', '20200102000000Z', '-out', at('cert.pem')]);
  }
  return { key: readFileSync(at('key.pem'), 'utf8'), cert: readFileSync(at('cert.pem'), 'utf8') };
}
