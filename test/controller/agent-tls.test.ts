/**
 * The agent endpoint's certificates (agent-tls.ts, openssl): a CA and a
 * server certificate naming 127.0.0.1, localhost and the listen hosts; a
 * second call keeps both; hosts the certificate does not name get a new one
 * signed by the same CA (replicas of one region share it).
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ensureAgentTls, subjectAltNames } from '../../src/controller/agent-tls.js';

describe('agent TLS certificates', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weft-agent-tls-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const cert = (f: string) => new X509Certificate(readFileSync(f));

  it('names the loopback and the listen hosts, not wildcard addresses', () => {
    assert.deepEqual(subjectAltNames(['0.0.0.0', '10.0.0.5', 'ctl.example', '[fd00::1]', '127.0.0.1']), ['IP:127.0.0.1', 'DNS:localhost', 'IP:10.0.0.5', 'DNS:ctl.example', 'IP:fd00::1']);
  });

  it('makes a CA and a server certificate it signs, keys readable by the owner only', () => {
    const f = ensureAgentTls(dir, ['10.0.0.5']);
    const c = cert(f.cert);
    assert.ok(c.verify(cert(f.ca).publicKey), 'signed by the CA');
    assert.ok(cert(f.ca).ca, 'the CA is a CA');
    assert.equal(c.checkIP('10.0.0.5'), '10.0.0.5');
    assert.equal(c.checkIP('127.0.0.1'), '127.0.0.1');
    assert.equal(c.checkHost('localhost'), 'localhost');
    assert.equal(c.checkIP('10.0.0.6'), undefined);
    assert.equal(statSync(f.key).mode & 0o077, 0);
    assert.equal(statSync(join(dir, 'ca-key.pem')).mode & 0o077, 0);
  });

  it('keeps both when they serve, and signs a new certificate with the same CA for new hosts', () => {
    const before = { ca: readFileSync(join(dir, 'ca.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
    const same = ensureAgentTls(dir, ['10.0.0.5']);
    assert.equal(readFileSync(same.cert, 'utf8'), before.cert);
    const more = ensureAgentTls(dir, ['10.0.0.5', '10.0.0.6']);
    assert.equal(readFileSync(more.ca, 'utf8'), before.ca, 'the CA is reused');
    assert.notEqual(readFileSync(more.cert, 'utf8'), before.cert);
    assert.equal(cert(more.cert).checkIP('10.0.0.6'), '10.0.0.6');
    assert.ok(cert(more.cert).verify(cert(more.ca).publicKey));
  });
});
