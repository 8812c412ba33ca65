/**
 * State survives a controller restart, the revision only moves forward, and
 * secrets at rest are protected: credentials.json and master.key are readable
 * by the owner only, and the database holds no SecretKey in plain text.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { unseal } from '../../src/accounts/secrets.js';
import { ACTIONS } from '../../src/api/registry.js';
import { query, revision } from '../helpers/raw.js';
import { engineName, startRegion, type Creds, type TestRegion } from '../helpers/region.js';

const has = (name: string) => ACTIONS.some((a) => a.name === name);
const TABLES = ['accounts', 'api_keys', 'meta', 'changes', 'usage', 'idempotency', 'tags', 'tasks', 'vpcs', 'subnets', 'security_groups', 'sg_policies'];

describe(`persistence and secrets at rest (${engineName()})`, () => {
  let r: TestRegion;
  let b: Creds;
  before(async () => {
    r = await startRegion();
    b = await r.newAccount('tenant-b');
  });
  after(async () => r?.stop());

  /** Everything both accounts can see, without request IDs. */
  async function world() {
    const views: unknown[] = [];
    for (const creds of [undefined, b]) {
      const vpc = r.vpc(creds);
      views.push((await vpc.DescribeVpcs({})).VpcSet);
      if (has('DescribeSubnets')) views.push((await vpc.DescribeSubnets({})).SubnetSet);
      if (has('DescribeSecurityGroups')) {
        const sgs = (await vpc.DescribeSecurityGroups({})).SecurityGroupSet!;
        views.push(sgs);
        for (const sg of sgs) views.push((await vpc.DescribeSecurityGroupPolicies({ SecurityGroupId: sg.SecurityGroupId! })).SecurityGroupPolicySet);
      }
    }
    return views;
  }

  it('keeps every resource across a restart, and the revision only increases', async () => {
    const revisions = [await revision(r)];
    const step = async () => {
      const now = await revision(r);
      assert.ok(now > revisions.at(-1)!, `revision moved from ${revisions.at(-1)} to ${now}`);
      revisions.push(now);
    };
    const vpcA = (await r.vpc().CreateVpc({ VpcName: 'kept', CidrBlock: '10.0.0.0/16', Tags: [{ Key: 'k', Value: 'v' }] })).Vpc!;
    await step();
    await r.vpc(b).CreateVpc({ VpcName: 'kept-b', CidrBlock: '10.0.0.0/16' });
    await step();
    await r.vpc().ModifyVpcAttribute({ VpcId: vpcA.VpcId!, VpcName: 'kept-renamed', DnsServers: ['10.0.0.2'] });
    await step();
    if (has('CreateSubnet')) {
      await r.vpc().CreateSubnet({ VpcId: vpcA.VpcId!, SubnetName: 'kept-net', CidrBlock: '10.0.1.0/24', Zone: 'local-1' });
      await step();
    }
    if (has('CreateSecurityGroupWithPolicies')) {
      await r.vpc(b).CreateSecurityGroupWithPolicies({
        GroupName: 'kept-sg',
        GroupDescription: 'survives restarts',
        SecurityGroupPolicySet: { Ingress: [{ Protocol: 'TCP', Port: '22', CidrBlock: '10.0.0.0/8', Action: 'ACCEPT' }] },
      });
      await step();
    }
    const seen = await world();
    assert.ok(JSON.stringify(seen).includes('kept-renamed'));

    await r.restart();
    assert.deepEqual(await world(), seen, 'the same resources, attribute for attribute');
    assert.equal(await revision(r), revisions.at(-1), 'a restart does not move the revision');
    // The unfiltered TotalCount comes from the persisted usage counter.
    assert.equal((await r.vpc().DescribeVpcs({})).TotalCount, 1);

    await r.restart();
    await r.vpc().CreateVpc({ VpcName: 'after-restart', CidrBlock: '172.16.0.0/16' });
    await step();
    assert.equal((await r.vpc().DescribeVpcs({})).TotalCount, 2);

    // The change log agrees: one revision per write, in order, none reused.
    const logged = (await query(r, 'select distinct revision from changes order by revision')).map((x) => Number(x.revision));
    for (const rev of revisions.slice(1)) assert.ok(logged.includes(rev), `revision ${rev} is in the change log`);
    assert.deepEqual(logged, [...logged].sort((x, y) => x - y));
  });

  it('credentials.json and master.key are mode 0600, and still after a restart', async () => {
    for (const f of ['credentials.json', 'master.key']) {
      const mode = statSync(join(r.dataDir, f)).mode & 0o777;
      assert.equal(mode.toString(8), '600', f);
    }
    const creds = JSON.parse(readFileSync(join(r.dataDir, 'credentials.json'), 'utf8')) as Creds;
    assert.deepEqual(Object.keys(creds).sort(), ['AppId', 'Endpoint', 'Region', 'SecretId', 'SecretKey', 'Uin']);
    assert.equal(creds.SecretKey, r.admin.SecretKey, 'a restart keeps the admin credentials');
  });

  it('stores no SecretKey in plain text, only sealed under the master key', async () => {
    const secrets = [r.admin.SecretKey, b.SecretKey];
    // Every row of every table, as text.
    const rows: string[] = [];
    for (const t of TABLES) rows.push(JSON.stringify(await query(r, `select * from ${t}`)));
    const dump = rows.join('\n');
    assert.ok(dump.includes(r.admin.SecretId) && dump.includes(b.SecretId), 'the dump does hold the keys’ rows');
    for (const s of secrets) assert.ok(!dump.includes(s), 'SecretKey found in a table');

    if (!r.database) {
      // The SQLite files themselves, write-ahead log included.
      const files = ['weft.db', 'weft.db-wal'].map((f) => join(r.dataDir, f)).filter(existsSync);
      const bytes = Buffer.concat(files.map((f) => readFileSync(f)));
      assert.ok(bytes.includes(Buffer.from(b.SecretId)), 'the files do hold the keys’ rows');
      for (const s of secrets) assert.ok(!bytes.includes(Buffer.from(s)), 'SecretKey found in the SQLite files');
    }

    // What is stored is the key sealed under master.key: it opens to the real key.
    const key = Buffer.from(readFileSync(join(r.dataDir, 'master.key'), 'utf8').trim(), 'base64');
    const sealed = await query(r, `select secret_id, secret_key_enc from api_keys`);
    const opened = Object.fromEntries(sealed.map((x) => [x.secret_id, unseal(key, String(x.secret_key_enc))]));
    assert.equal(opened[r.admin.SecretId], r.admin.SecretKey);
    assert.equal(opened[b.SecretId], b.SecretKey);
  });
});
