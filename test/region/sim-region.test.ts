/**
 * `weft up --dataplane sim`: the whole control plane and its agents without
 * namespaces (no root needed), with trace and reach answering over the
 * controller's documents, and with --applied over what the sim hosts hold.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client as CvmClient } from 'tencentcloud-sdk-nodejs/tencentcloud/services/cvm/v20170312/cvm_client.js';
import { Client as VpcClient } from 'tencentcloud-sdk-nodejs/tencentcloud/services/vpc/v20170312/vpc_client.js';
import { engineName, freshDatabase, run, WEFT, type Creds } from '../helpers/region.js';

describe(`region in a box on the sim data plane (${engineName()})`, () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'weft-sim-'));
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let vpc: VpcClient;
  let cvm: CvmClient;
  const ids: string[] = [];
  let vpcId = '';
  let sg = '';
  let restarted: ChildProcess | undefined;

  before(async () => {
    db = await freshDatabase();
    const up = await run(['up', '--detach', '--data-dir', dataDir, '--listen', '127.0.0.1:0', '--hosts', '2', '--dataplane', 'sim', ...(db ? ['--database', db.url] : [])]);
    assert.equal(up.code, 0, up.stderr + up.stdout);
    assert.match(up.stdout, /2 hosts \(sim data plane\)/);
    const c = JSON.parse(readFileSync(join(dataDir, 'credentials.json'), 'utf8')) as Creds;
    const opts = { credential: { secretId: c.SecretId, secretKey: c.SecretKey }, region: 'local', profile: { httpProfile: { endpoint: c.Endpoint, protocol: 'http://' } } };
    vpc = new VpcClient(opts);
    cvm = new CvmClient(opts);
    vpcId = (await vpc.CreateVpc({ VpcName: 'sim', CidrBlock: '10.1.0.0/16' })).Vpc!.VpcId!;
    const subnet = (await vpc.CreateSubnet({ VpcId: vpcId, SubnetName: 's', CidrBlock: '10.1.1.0/24', Zone: 'local-1' })).Subnet!.SubnetId!;
    sg = (await vpc.CreateSecurityGroupWithPolicies({
      GroupName: 'ssh',
      GroupDescription: 'ssh in',
      SecurityGroupPolicySet: {
        Ingress: [{ Protocol: 'TCP', Port: '22', CidrBlock: '10.1.0.0/16', Action: 'ACCEPT' }],
        Egress: [{ Protocol: 'ALL', CidrBlock: '0.0.0.0/0', Action: 'ACCEPT' }],
      },
    })).SecurityGroup!.SecurityGroupId!;
    const r = await cvm.RunInstances({ Placement: { Zone: 'local-1' }, VirtualPrivateCloud: { VpcId: vpcId, SubnetId: subnet }, SecurityGroupIds: [sg], InstanceCount: 2 });
    ids.push(...r.InstanceIdSet!);
    for (let i = 0; ; i++) {
      const d = await cvm.DescribeInstances({ InstanceIds: ids });
      if (d.InstanceSet!.every((x) => x.InstanceState === 'RUNNING')) break;
      assert.ok(i < 100, 'instances RUNNING on the sim agents within 20 s');
      await new Promise((ok) => setTimeout(ok, 200));
    }
  });
  after(async () => {
    restarted?.kill('SIGKILL');
    const down = await run(['down', '--data-dir', dataDir]);
    assert.ok(!existsSync(join(dataDir, 'sim')), `weft down removes the sim hosts' state: ${down.stdout}`);
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('traces an allowed and a denied flow with the CLI', async () => {
    const ok = await run(['trace', '--data-dir', dataDir, '--from', ids[0]!, '--to', ids[1]!, '--proto', 'tcp', '--port', '22', '--json']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /delivered/);
    const denied = await run(['trace', '--data-dir', dataDir, '--from', ids[0]!, '--to', ids[1]!, '--proto', 'tcp', '--port', '80', '--json']);
    assert.match(denied.stdout, /ingress-default/);
  });

  it('prints the reachability matrix of the VPC', async () => {
    const m = await run(['reach', '--data-dir', dataDir, '--vpc', vpcId, '--proto', 'tcp', '--port', '22', '--json']);
    assert.equal(m.code, 0, m.stderr);
    for (const id of ids) assert.ok(m.stdout.includes(id), `${id} in the matrix`);
  });

  it("--applied traces what the sim hosts hold: a host whose agent is down keeps the old state until the agent returns", async () => {
    const port80 = (applied: boolean) =>
      run(['trace', '--data-dir', dataDir, '--from', ids[0]!, '--to', ids[1]!, '--proto', 'tcp', '--port', '80', '--json', ...(applied ? ['--applied'] : [])]);
    const verdict = (out: string) => (JSON.parse(out) as { Verdict: string }).Verdict;
    assert.equal(verdict((await port80(true)).stdout), 'dropped', 'applied: port 80 is not allowed yet');
    // Stop every agent (the instances' host among them), then allow port 80.
    const agents = (JSON.parse(readFileSync(join(dataDir, 'run.json'), 'utf8')) as { agents: Record<string, number> }).agents;
    for (const pid of Object.values(agents)) process.kill(pid, 'SIGKILL');
    await vpc.CreateSecurityGroupPolicies({ SecurityGroupId: sg, SecurityGroupPolicySet: { Ingress: [{ Protocol: 'TCP', Port: '80', CidrBlock: '10.1.0.0/16', Action: 'ACCEPT' }] } });
    const desired = await port80(false);
    assert.equal(verdict(desired.stdout), 'delivered', 'the controller wants it delivered');
    const pending = (JSON.parse(desired.stdout) as { PendingHostSet: { HostId: string }[] }).PendingHostSet;
    assert.ok(pending.length > 0, 'and says a host has not applied it');
    assert.equal(verdict((await port80(true)).stdout), 'dropped', 'the sim host still holds the old state');
    // The host's agent returns, adopts the state it left and applies what changed.
    const host = pending[0]!.HostId;
    restarted = spawn(process.execPath, [WEFT, 'agent', '--data-dir', dataDir, '--host-id', host, '--dataplane', 'sim'], { stdio: 'ignore' });
    for (let i = 0; verdict((await port80(true)).stdout) !== 'delivered'; i++) {
      assert.ok(i < 100, 'the restarted agent applied the change within 20 s');
      await new Promise((ok) => setTimeout(ok, 200));
    }
    const m = await run(['reach', '--data-dir', dataDir, '--vpc', vpcId, '--proto', 'tcp', '--port', '80', '--applied']);
    assert.equal(m.code, 0, m.stderr);
    for (const id of ids) assert.ok(m.stdout.includes(id), `${id} in the applied matrix`);
    const missing = await run(['trace', '--data-dir', dataDir, '--from', 'ins-nothere', '--to', ids[1]!, '--proto', 'icmp', '--applied']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /ins-nothere has no port on any host/);
  });
});
