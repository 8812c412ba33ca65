/**
 * A region in a box with two controller replicas (issue 13 item 3):
 * `weft up --controllers 2` on PostgreSQL; `weft node list` shows them (role
 * controller, with each one's endpoint); `weft node fail ctl1` kills one as a
 * crash would: the agents move to ctl2 (over TLS, resuming the documents they
 * hold), an instance started through ctl2 reaches RUNNING, and on the linux
 * data plane traffic between instances flows throughout; `weft node recover
 * ctl1` brings it back, serving again.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client as CvmClient } from 'tencentcloud-sdk-nodejs/tencentcloud/services/cvm/v20170312/cvm_client.js';
import type { RegionStatus } from '../../src/controller/region-status.js';
import type { NodeInfo } from '../../src/region/nodes.js';
import { isRoot, startBox, until, type Box } from '../helpers/box.js';
import { engineName, run, type Creds } from '../helpers/region.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const skip = engineName() === 'postgres' ? false : 'controller replicas share a PostgreSQL database (SQLite serves one process); this file runs in the PostgreSQL pass';
const dataplane = isRoot ? 'linux' : 'sim';

describe(`weft up --controllers 2 (${engineName()}, ${dataplane})`, { skip }, () => {
  let box: Box;
  before(async () => {
    if (skip) return;
    box = await startBox(2, { WEFT_REPLICA_LEASE_MS: '2000' }, 0, 0, dataplane, ['--controllers', '2']);
  });
  after(async () => {
    await box?.down();
  });

  const nodes = async () => {
    const r = await run(['node', 'list', '--data-dir', box.dataDir]);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as NodeInfo[];
  };
  const controllers = async () => (await nodes()).filter((n) => n.role === 'controller');
  const cvmAt = (endpoint: string) => {
    const creds = JSON.parse(readFileSync(join(box.dataDir, 'credentials.json'), 'utf8')) as Creds;
    return new CvmClient({ credential: { secretId: creds.SecretId, secretKey: creds.SecretKey }, region: 'local', profile: { httpProfile: { endpoint, protocol: 'http://', reqTimeout: 30 } } });
  };
  const running = (cvm: CvmClient, id: string) =>
    until(`${id} RUNNING`, async () => (await cvm.DescribeInstances({ InstanceIds: [id] })).InstanceSet![0]?.InstanceState === 'RUNNING', 60_000);

  it('lists both replicas, survives the loss of one, and takes it back', async () => {
    const before = await controllers();
    assert.deepEqual(
      before.map((n) => [n.name, n.state]),
      [
        ['ctl1', 'up'],
        ['ctl2', 'up'],
      ],
    );
    assert.ok(before.every((n) => /^127\.0\.0\.1:\d+$/.test(n.endpoint ?? '')), JSON.stringify(before));
    const [ctl1, ctl2] = before as [NodeInfo, NodeInfo];

    const vpcId = (await box.vpc.CreateVpc({ VpcName: 'replicas', CidrBlock: '10.0.0.0/16' })).Vpc!.VpcId!;
    const subnetId = (await box.vpc.CreateSubnet({ VpcId: vpcId, SubnetName: 's', CidrBlock: '10.0.1.0/24', Zone: 'local-1' })).Subnet!.SubnetId!;
    const sg = (await box.vpc.CreateSecurityGroupWithPolicies({
      GroupName: 'open',
      GroupDescription: 'open both ways',
      SecurityGroupPolicySet: { Ingress: [{ Protocol: 'ALL', CidrBlock: '0.0.0.0/0', Action: 'ACCEPT' }], Egress: [{ Protocol: 'ALL', CidrBlock: '0.0.0.0/0', Action: 'ACCEPT' }] },
    })).SecurityGroup!.SecurityGroupId!;
    const launch = (cvm: CvmClient, zone: string) =>
      cvm.RunInstances({ Placement: { Zone: zone }, VirtualPrivateCloud: { VpcId: vpcId, SubnetId: subnetId }, SecurityGroupIds: [sg] }).then((r) => r.InstanceIdSet![0]!);
    const a = await launch(cvmAt(ctl1.endpoint!), 'local-1');
    await running(cvmAt(ctl1.endpoint!), a);

    // ctl1 dies as a crash would.
    const failed = await run(['node', 'fail', '--data-dir', box.dataDir, 'ctl1']);
    assert.equal(failed.code, 0, failed.stderr);
    assert.equal((JSON.parse(failed.stdout) as NodeInfo).state, 'failed');
    await assert.rejects(cvmAt(ctl1.endpoint!).DescribeInstances({}));
    // The agents move to ctl2: an instance started through it gets placed, applied and RUNNING.
    const b = await launch(cvmAt(ctl2.endpoint!), 'local-1');
    await running(cvmAt(ctl2.endpoint!), b);
    // The CLI with --data-dir finds the living replica by itself.
    const listed = await run(['cvm', 'DescribeInstances', '--data-dir', box.dataDir]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.equal((JSON.parse(listed.stdout) as { TotalCount: number }).TotalCount, 2);
    if (dataplane === 'linux') {
      const ip = (await cvmAt(ctl2.endpoint!).DescribeInstances({ InstanceIds: [b] })).InstanceSet![0]!.PrivateIpAddresses![0]!;
      const ping = await box.exec(a, ['ping', '-c', '2', '-W', '2', ip]);
      assert.equal(ping.code, 0, ping.out);
    }

    const recovered = await run(['node', 'recover', '--data-dir', box.dataDir, 'ctl1']);
    assert.equal(recovered.code, 0, recovered.stderr);
    assert.equal((JSON.parse(recovered.stdout) as NodeInfo).state, 'up');
    assert.equal((await cvmAt(ctl1.endpoint!).DescribeInstances({})).TotalCount, 2);
    const status = await run(['status', '--data-dir', box.dataDir, '--json']);
    assert.equal(status.code, 0, status.stderr);
    const replicas = (JSON.parse(status.stdout) as RegionStatus).replicas;
    assert.deepEqual(
      replicas.map((r) => [r.id, r.alive]),
      [
        ['ctl1', true],
        ['ctl2', true],
      ],
    );
  });
});
