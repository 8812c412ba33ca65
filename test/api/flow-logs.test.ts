/**
 * The flow-log actions through the official SDK: every ResourceType, the
 * FlowLog model's fields, Describe filters and paging, Modify, Enable/Disable,
 * Delete; and bad input — a missing or another account's VPC, subnet or
 * network interface, a resource of another VPC, unknown types, malformed IDs —
 * each with its Tencent code, the revision and the flow logs unchanged.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openStore, type Store } from '../../src/store/store.js';
import { engineName, errorOf, loose, modelFields, startRegion, type Creds, type TestRegion } from '../helpers/region.js';

describe(`flow logs through the official SDK (${engineName()})`, () => {
  let r: TestRegion;
  let store: Store;
  let other: Creds;
  let vpcId: string;
  let subnetId: string;
  let eni: string;
  let otherVpc: string;
  let otherVpcSubnet: string;
  let otherVpcEni: string;
  let foreignVpc: string;
  let foreignSubnet: string;
  let foreignEni: string;

  const eniOf = async (instanceId: string) => (await store.db.selectFrom('instances').select('eni_id').where('id', '=', instanceId).executeTakeFirstOrThrow()).eni_id;
  const world = async (creds?: Creds) => {
    const vpc = r.vpc(creds);
    const v = (await vpc.CreateVpc({ VpcName: 'fl', CidrBlock: '10.0.0.0/16' })).Vpc!.VpcId!;
    const s = (await vpc.CreateSubnet({ VpcId: v, SubnetName: 's', CidrBlock: '10.0.1.0/24', Zone: 'local-1' })).Subnet!.SubnetId!;
    const i = (await r.cvm(creds).RunInstances({ Placement: { Zone: 'local-1' }, VirtualPrivateCloud: { VpcId: v, SubnetId: s } })).InstanceIdSet![0]!;
    return { v, s, e: await eniOf(i) };
  };

  before(async () => {
    r = await startRegion();
    store = await openStore(r.database ?? join(r.dataDir, 'weft.db'));
    ({ v: vpcId, s: subnetId, e: eni } = await world());
    ({ v: otherVpc, s: otherVpcSubnet, e: otherVpcEni } = await world());
    other = await r.newAccount('other');
    ({ v: foreignVpc, s: foreignSubnet, e: foreignEni } = await world(other));
  });
  after(async () => {
    await store?.close();
    await r?.stop();
  });

  const state = async () => ({ revision: await store.revision(), logs: await store.db.selectFrom('flow_logs').selectAll().orderBy('id').execute() });

  it('creates a flow log of each ResourceType with every field of the FlowLog model, describes, modifies, switches and deletes it', async () => {
    const vpc = r.vpc();
    const made: string[] = [];
    for (const [type, id, traffic] of [
      ['VPC', vpcId, 'ALL'],
      ['SUBNET', subnetId, 'ACCEPT'],
      ['NETWORKINTERFACE', eni, 'REJECT'],
    ] as const) {
      const fl = (await vpc.CreateFlowLog({ VpcId: vpcId, FlowLogName: `log-${type}`, ResourceType: type, ResourceId: id, TrafficType: traffic, CloudLogId: 'topic-1', FlowLogDescription: 'd', Tags: [{ Key: 'env', Value: 'test' }] })).FlowLog![0]!;
      assert.match(fl.FlowLogId!, /^fl-[0-9a-z]{8}$/);
      // FlowLogStorage is answered for ckafka and Period for CCN only, which Weft refuses.
      assert.deepEqual(Object.keys(fl).sort(), modelFields('FlowLog').filter((f) => f !== 'FlowLogStorage' && f !== 'Period'));
      const { FlowLogId, CreatedTime, ...rest } = fl;
      assert.match(CreatedTime!, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
      assert.deepEqual(rest, {
        VpcId: vpcId,
        FlowLogName: `log-${type}`,
        ResourceType: type,
        ResourceId: id,
        TrafficType: traffic,
        CloudLogId: 'topic-1',
        CloudLogState: 'SUCCESS',
        FlowLogDescription: 'd',
        TagSet: [{ Key: 'env', Value: 'test' }],
        Enable: true,
        StorageType: 'cls',
        CloudLogRegion: 'local',
      });
      made.push(FlowLogId!);
      // The VPC's hosts are told (their documents carry the captures).
      const change = await store.db.selectFrom('changes').select(['kind', 'op']).where('resource_id', '=', vpcId).orderBy('revision', 'desc').executeTakeFirst();
      assert.deepEqual(change, { kind: 'vpc', op: 'update' });
    }
    const all = await vpc.DescribeFlowLogs({ VpcId: vpcId });
    assert.equal(all.TotalNum, 3);
    assert.deepEqual(all.FlowLog!.map((f) => f.FlowLogId), [...made].reverse(), 'newest first by default');
    assert.deepEqual((await vpc.DescribeFlowLogs({ VpcId: vpcId, OrderField: 'flowLogName', OrderDirection: 'ASC' })).FlowLog!.map((f) => f.FlowLogName), ['log-NETWORKINTERFACE', 'log-SUBNET', 'log-VPC']);
    assert.deepEqual((await vpc.DescribeFlowLogs({ ResourceType: 'SUBNET' })).FlowLog!.map((f) => f.FlowLogId), [made[1]]);
    assert.deepEqual((await vpc.DescribeFlowLogs({ TrafficType: 'REJECT', ResourceId: eni })).FlowLog!.map((f) => f.FlowLogId), [made[2]]);
    const paged = await vpc.DescribeFlowLogs({ VpcId: vpcId, Limit: 1, Offset: 1 });
    assert.deepEqual([paged.TotalNum, paged.FlowLog!.length], [3, 1]);
    assert.equal((await vpc.DescribeFlowLogs({ Filters: { Name: 'tag-key', Values: ['env'] } })).TotalNum, 3);
    assert.equal((await vpc.DescribeFlowLogs({ Filters: { Name: 'tag:env', Values: ['prod'] } })).TotalNum, 0);
    // Another account sees none of them.
    assert.equal((await r.vpc(other).DescribeFlowLogs({})).TotalNum, 0);

    await vpc.ModifyFlowLogAttribute({ VpcId: vpcId, FlowLogId: made[0]!, FlowLogName: 'renamed', FlowLogDescription: 'new' });
    const one = (await vpc.DescribeFlowLog({ VpcId: vpcId, FlowLogId: made[0]! })).FlowLog![0]!;
    assert.deepEqual([one.FlowLogName, one.FlowLogDescription, one.TrafficType], ['renamed', 'new', 'ALL']);

    await vpc.DisableFlowLogs({ FlowLogIds: [made[0]!, made[1]!] });
    assert.deepEqual((await vpc.DescribeFlowLogs({ VpcId: vpcId, OrderDirection: 'ASC' })).FlowLog!.map((f) => f.Enable), [false, false, true]);
    await vpc.EnableFlowLogs({ FlowLogIds: [made[0]!] });
    assert.deepEqual((await vpc.DescribeFlowLogs({ VpcId: vpcId, OrderDirection: 'ASC' })).FlowLog!.map((f) => f.Enable), [true, false, true]);

    for (const id of made) await vpc.DeleteFlowLog({ VpcId: vpcId, FlowLogId: id });
    assert.equal((await vpc.DescribeFlowLogs({ VpcId: vpcId })).TotalNum, 0);
    assert.equal((await store.db.selectFrom('tags').select('key').where('resource_id', 'in', made).execute()).length, 0);
  });

  it('refuses bad input with Tencent codes and changes nothing', async () => {
    const vpc = r.vpc();
    const existing = (await vpc.CreateFlowLog({ VpcId: vpcId, FlowLogName: 'keep', ResourceType: 'SUBNET', ResourceId: subnetId, TrafficType: 'ALL' })).FlowLog![0]!.FlowLogId!;
    const foreignLog = (await r.vpc(other).CreateFlowLog({ VpcId: foreignVpc, FlowLogName: 'theirs', ResourceType: 'VPC', ResourceId: foreignVpc, TrafficType: 'ALL' })).FlowLog![0]!.FlowLogId!;
    const base = { VpcId: vpcId, FlowLogName: 'x', ResourceType: 'VPC', ResourceId: vpcId, TrafficType: 'ALL' };
    const cases: [string, () => Promise<unknown>, string, RegExp?][] = [
      ['unknown traffic type', () => vpc.CreateFlowLog({ ...base, TrafficType: 'DROP' }), 'InvalidParameterValue.Range', /TrafficType.*ACCEPT, REJECT, ALL/],
      ['lower-case traffic type', () => vpc.CreateFlowLog({ ...base, TrafficType: 'accept' }), 'InvalidParameterValue.Range'],
      ['unknown resource type', () => vpc.CreateFlowLog({ ...base, ResourceType: 'INSTANCE' }), 'InvalidParameterValue.Range', /VPC, SUBNET, NETWORKINTERFACE/],
      ['CCN', () => vpc.CreateFlowLog({ ...base, ResourceType: 'CCN', ResourceId: 'ccn-12345678' }), 'InvalidParameterValue.Range', /Cloud Connect/],
      ['missing VPC', () => vpc.CreateFlowLog({ ...base, VpcId: 'vpc-00000000', ResourceId: 'vpc-00000000' }), 'ResourceNotFound'],
      ["another account's VPC", () => vpc.CreateFlowLog({ ...base, VpcId: foreignVpc, ResourceId: foreignVpc }), 'ResourceNotFound'],
      ['VpcId left out', () => vpc.CreateFlowLog(loose({ FlowLogName: 'x', ResourceType: 'VPC', ResourceId: vpcId, TrafficType: 'ALL' })), 'MissingParameter'],
      ['malformed VPC ID', () => vpc.CreateFlowLog({ ...base, VpcId: 'vpc-1', ResourceId: 'vpc-1' }), 'InvalidParameterValue.Malformed'],
      ['VPC resource not the VpcId', () => vpc.CreateFlowLog({ ...base, ResourceId: otherVpc }), 'InvalidParameterValue'],
      ['missing subnet', () => vpc.CreateFlowLog({ ...base, ResourceType: 'SUBNET', ResourceId: 'subnet-00000000' }), 'ResourceNotFound'],
      ["another account's subnet", () => vpc.CreateFlowLog({ ...base, ResourceType: 'SUBNET', ResourceId: foreignSubnet }), 'ResourceNotFound'],
      ["another VPC's subnet", () => vpc.CreateFlowLog({ ...base, ResourceType: 'SUBNET', ResourceId: otherVpcSubnet }), 'InvalidParameterValue', /is in `vpc-/],
      ['missing network interface', () => vpc.CreateFlowLog({ ...base, ResourceType: 'NETWORKINTERFACE', ResourceId: 'eni-00000000' }), 'ResourceNotFound'],
      ["another account's network interface", () => vpc.CreateFlowLog({ ...base, ResourceType: 'NETWORKINTERFACE', ResourceId: foreignEni }), 'ResourceNotFound'],
      ["another VPC's network interface", () => vpc.CreateFlowLog({ ...base, ResourceType: 'NETWORKINTERFACE', ResourceId: otherVpcEni }), 'InvalidParameterValue', /is in `vpc-/],
      ['instance ID for a network interface', () => vpc.CreateFlowLog({ ...base, ResourceType: 'NETWORKINTERFACE', ResourceId: 'ins-12345678' }), 'InvalidParameterValue.Malformed', /eni-xxxxxxxx/],
      ['same resource and traffic type twice', () => vpc.CreateFlowLog({ ...base, ResourceType: 'SUBNET', ResourceId: subnetId }), 'InvalidParameterValue.Duplicate', new RegExp(existing)],
      ['empty name', () => vpc.CreateFlowLog({ ...base, FlowLogName: ' ' }), 'InvalidParameterValue.Empty'],
      ['name too long', () => vpc.CreateFlowLog({ ...base, FlowLogName: 'n'.repeat(61) }), 'InvalidParameterValue.Range'],
      ['ckafka storage', () => vpc.CreateFlowLog({ ...base, StorageType: 'ckafka' }), 'InvalidParameterValue.Range', /region's store/],
      ['Period on a VPC log', () => vpc.CreateFlowLog({ ...base, Period: 60 }), 'InvalidParameterValue.Range', /CCN/],
      ['describe: malformed ID', () => vpc.DescribeFlowLogs({ FlowLogId: 'fl-1' }), 'InvalidParameterValue.Malformed'],
      ['describe: ID with Filters', () => vpc.DescribeFlowLogs({ FlowLogId: existing, Filters: { Name: 'tag-key', Values: ['a'] } }), 'InvalidParameter'],
      ['describe: unknown filter', () => vpc.DescribeFlowLogs({ Filters: { Name: 'flow-log-name', Values: ['a'] } }), 'InvalidParameter.FilterInvalidKey'],
      ['describe: Limit 0', () => vpc.DescribeFlowLogs({ Limit: 0 }), 'InvalidParameterValue.Range'],
      ['describe: bad order field', () => vpc.DescribeFlowLogs({ OrderField: 'bytes' }), 'InvalidParameterValue.Range'],
      ["describe one: another account's log", () => vpc.DescribeFlowLog({ VpcId: vpcId, FlowLogId: foreignLog }), 'ResourceNotFound'],
      ['describe one: log of another VPC', () => vpc.DescribeFlowLog({ VpcId: otherVpc, FlowLogId: existing }), 'ResourceNotFound'],
      ['modify: VpcId left out', () => vpc.ModifyFlowLogAttribute({ FlowLogId: existing, FlowLogName: 'y' }), 'MissingParameter'],
      ["modify: another account's log", () => vpc.ModifyFlowLogAttribute({ VpcId: foreignVpc, FlowLogId: foreignLog, FlowLogName: 'y' }), 'ResourceNotFound'],
      ['modify: name too long', () => vpc.ModifyFlowLogAttribute({ VpcId: vpcId, FlowLogId: existing, FlowLogName: 'n'.repeat(61) }), 'InvalidParameterValue.Range'],
      ['delete: missing log', () => vpc.DeleteFlowLog({ VpcId: vpcId, FlowLogId: 'fl-00000000' }), 'ResourceNotFound'],
      ["delete: another account's log", () => vpc.DeleteFlowLog({ VpcId: foreignVpc, FlowLogId: foreignLog }), 'ResourceNotFound'],
      ['disable: one of the IDs missing', () => vpc.DisableFlowLogs({ FlowLogIds: [existing, 'fl-00000000'] }), 'ResourceNotFound', /fl-00000000/],
      ["enable: another account's log", () => vpc.EnableFlowLogs({ FlowLogIds: [foreignLog] }), 'ResourceNotFound'],
      ['enable: malformed ID', () => vpc.EnableFlowLogs({ FlowLogIds: ['fl-x'] }), 'InvalidParameterValue.Malformed'],
      ['enable: no IDs', () => vpc.EnableFlowLogs({ FlowLogIds: [] }), 'InvalidParameterValue'],
    ];
    // Sequentially, each against the state before it.
    for (const [what, call, code, message] of cases) {
      const before = await state();
      const e = await errorOf(call());
      assert.equal(e.code, code, `${what}: ${e.message}`);
      if (message) assert.match(e.message, message, what);
      assert.deepEqual(await state(), before, `${what} changed something`);
    }
  });

  it('goes with its resource: terminating the instance, deleting the subnet, deleting the VPC delete their flow logs', async () => {
    const vpc = r.vpc();
    const w = await world();
    const log = async (type: 'VPC' | 'SUBNET' | 'NETWORKINTERFACE', id: string) =>
      (await vpc.CreateFlowLog({ VpcId: w.v, FlowLogName: type, ResourceType: type, ResourceId: id, TrafficType: 'ALL' })).FlowLog![0]!.FlowLogId!;
    const [ofVpc, ofSubnet, ofEni] = [await log('VPC', w.v), await log('SUBNET', w.s), await log('NETWORKINTERFACE', w.e)];
    const left = async () => (await vpc.DescribeFlowLogs({ VpcId: w.v })).FlowLog!.map((f) => f.FlowLogId).sort();
    assert.deepEqual(await left(), [ofVpc, ofSubnet, ofEni].sort());
    const instance = (await store.db.selectFrom('instances').select('id').where('eni_id', '=', w.e).executeTakeFirstOrThrow()).id;
    await r.cvm().TerminateInstances({ InstanceIds: [instance] });
    assert.deepEqual(await left(), [ofVpc, ofSubnet].sort());
    await vpc.DeleteSubnet({ SubnetId: w.s });
    assert.deepEqual(await left(), [ofVpc]);
    await vpc.DeleteVpc({ VpcId: w.v });
    assert.equal((await store.db.selectFrom('flow_logs').select('id').where('vpc_id', '=', w.v).execute()).length, 0, 'the VPC\'s flow log went with it');
  });
});
