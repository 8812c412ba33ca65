/**
 * The certificate of the agents' TLS endpoint (`--agent-listen`), made with
 * the `openssl` CLI when none is given: a CA of the region (ca.pem,
 * ca-key.pem) and a server certificate it signs (cert.pem, key.pem) naming
 * 127.0.0.1, localhost and the listen hosts. Agents verify the server
 * against ca.pem (`weft agent --ca`); the host token still says which host an
 * agent is.
 *
 * Several replicas share one CA so one `--ca` serves an agent whatever
 * replica it reaches: `weft up` calls ensureAgentTls once for the region
 * with every replica's host, or copies ca.pem and ca-key.pem into each
 * replica's directory first; a CA found in `dir` is reused to sign, never
 * replaced. A server certificate that does not name every host asked for
 * (a replica that moved) is made again.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';

export interface AgentTlsFiles {
  ca: string;
  cert: string;
  key: string;
}

/** Where a data dir keeps its agent TLS files by default. */
export const agentTlsDir = (dataDir: string) => join(dataDir, 'agent-tls');

/** The subjectAltName entries for `hosts` (always 127.0.0.1 and localhost), without duplicates. */
export function subjectAltNames(hosts: readonly string[]): string[] {
  const names = new Set(['IP:127.0.0.1', 'DNS:localhost']);
  for (const h of hosts) {
    const bare = h.replace(/^\[|\]$/g, '');
    // A wildcard listen address is no name an agent dials.
    if (!bare || bare === '0.0.0.0' || bare === '::') continue;
    names.add(isIP(bare) ? `IP:${bare}` : `DNS:${bare}`);
  }
  return [...names];
}

/** Whether the certificate names every one of `hosts`. */
function covers(certPem: string, hosts: readonly string[]): boolean {
  const c = new X509Certificate(certPem);
  return subjectAltNames(hosts).every((n) => (n.startsWith('IP:') ? c.checkIP(n.slice(3)) !== undefined : c.checkHost(n.slice(4)) !== undefined));
}

const openssl = (args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });

/** The CA and a server certificate for `hosts` in `dir`, made (or completed) with openssl as needed. */
export function ensureAgentTls(dir: string, hosts: readonly string[]): AgentTlsFiles {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const f = { ca: join(dir, 'ca.pem'), caKey: join(dir, 'ca-key.pem'), cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') };
  if (!existsSync(f.ca) || !existsSync(f.caKey)) {
    openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', f.caKey, '-out', f.ca, '-days', '3650', '-subj', '/CN=weft agents CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
    chmodSync(f.caKey, 0o600);
    rmSync(f.cert, { force: true }); // signed by a CA that is gone
  }
  if (existsSync(f.cert) && existsSync(f.key) && covers(readFileSync(f.cert, 'utf8'), hosts) && signedBy(f.cert, f.ca)) return { ca: f.ca, cert: f.cert, key: f.key };
  const csr = join(dir, 'cert.csr');
  const ext = join(dir, 'cert.ext');
  writeFileSync(ext, `subjectAltName=${subjectAltNames(hosts).join(',')}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n`);
  try {
    openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', f.key, '-out', csr, '-subj', '/CN=weft controller']);
    chmodSync(f.key, 0o600);
    openssl(['x509', '-req', '-in', csr, '-CA', f.ca, '-CAkey', f.caKey, '-CAcreateserial', '-out', f.cert, '-days', '825', '-extfile', ext]);
  } finally {
    rmSync(csr, { force: true });
    rmSync(ext, { force: true });
  }
  return { ca: f.ca, cert: f.cert, key: f.key };
}

function signedBy(certFile: string, caFile: string): boolean {
  return new X509Certificate(readFileSync(certFile)).verify(new X509Certificate(readFileSync(caFile)).publicKey);
}
