import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openStore, type Store } from '../../src/store/store.js';
import { engineName, errorCode, errorOf, loose, startRegion, type TestRegion } from '../helpers/region.js';

describe(`StopInstances, StartInstances, RebootInstances through the official SDK cvm client (${engineName()})`, () => {
  let r: TestRegion;
  let store: Store;
  let vpcId: string, subnetId: string, sg: string;
  const HOST = 'h-power';

  before(async () => {
    r = await startRegion();
    store = await openStore(r.database ?? join(r.dataDir, 'weft.db'));
    const vpc = r.vpc();
    vpcId = (await vpc.CreateVpc({ VpcName: 'p', CidrBlock: '10.0.0.0/16' })).Vpc!.VpcId!;
    subnetId = (await vpc.CreateSubnet({ VpcId: vpcId, SubnetName: 'p1', CidrBlock: '10.0.1.0/24', Zone: 'local-1' })).Subnet!.SubnetId!;
    sg = (await vpc.CreateSecurityGroup({ GroupName: 'p', GroupDescription: 'p' })).SecurityGroup!.SecurityGroupId!;
    // The one host of local-1, whose agent never runs: the test says what it has applied (applyAll).
    await store.write((w) =>
      w.tx
        .insertInto('hosts')
        .values({ id: HOST, zone: 'local-1', underlay: '100.64.7.7', token_hash: 'x', applied_revision: 0, reported_at: null, report: null, created_at: w.now })
        .execute(),
    );
  });
  after(async () => {
    await store?.close();
    await r?.stop();
  });

  /** The host has applied every revision so far, as its agent would report. */
  const applyAll = async () => {
    const now = await store.revision();
    await store.write((w) => w.tx.updateTable('hosts').set({ applied_revision: now }).where('id', '=', HOST).execute());
  };
  /**
   * Launches `n` instances and waits until the server's scheduler has placed them on the host (the only one
   * of local-1), which has not applied their placement yet. Placing them from here instead would race with
   * the scheduler, whose placement revision could then land after the one the test marks applied.
   */
  const launchPlaced = async (n = 1, cvm = r.cvm(), subnet = subnetId, vpc = vpcId) => {
    const ids = (await cvm.RunInstances({ Placement: { Zone: 'local-1' }, VirtualPrivateCloud: { VpcId: vpc, SubnetId: subnet }, InstanceCount: n, SecurityGroupIds: vpc === vpcId ? [sg] : [] }))
      .InstanceIdSet!;
    for (const deadline = Date.now() + 15_000; ; await new Promise((ok) => setTimeout(ok, 20))) {
      const placed = await store.db.selectFrom('instances').select('host_id').where('id', 'in', ids).where('host_id', '=', HOST).execute();
      if (placed.length === ids.length) return ids;
      if (Date.now() > deadline) assert.fail(`the scheduler did not place ${ids.join(', ')} on ${HOST}`);
    }
  };
  /** Launched, placed and applied: RUNNING. */
  const launchRunning = async (n = 1) => {
    const ids = await launchPlaced(n);
    await applyAll();
    return ids;
  };
  const describe_ = async (ids: string[]) => {
    const res = await r.cvm().DescribeInstances({ InstanceIds: ids });
    return new Map(res.InstanceSet!.map((i) => [i.InstanceId!, i]));
  };
  const stateOf = async (id: string) => {
    const i = (await describe_([id])).get(id)!;
    return [i.InstanceState, i.LatestOperation, i.LatestOperationState];
  };
  const row = (id: string) => store.db.selectFrom('instances').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const changesOf = async (id: string) =>
    store.db.selectFrom('changes').select(['revision', 'kind', 'op']).where('resource_id', '=', id).orderBy('revision').execute();
  /** Everything the power actions could write, to prove a rejected call changed nothing. */
  const snapshot = async () => ({
    revision: await store.revision(),
    instances: await store.db.selectFrom('instances').selectAll().orderBy('id').execute(),
    sgs: await store.db.selectFrom('instance_sgs').selectAll().orderBy('instance_id').orderBy('sg_id').execute(),
  });

  it('stops a running instance at once, keeping its host, address, MAC and groups, and starts it again', async () => {
    const cvm = r.cvm();
    const [id] = await launchRunning();
    const before_ = await row(id!);
    assert.deepEqual(await stateOf(id!), ['RUNNING', 'RunInstances', 'SUCCESS']);
    assert.equal(before_.state, 'PENDING', 'stored PENDING, effective RUNNING: the host applied its placement');

    const stop = await cvm.StopInstances({ InstanceIds: [id!], StopType: 'SOFT' });
    assert.match(stop.RequestId!, /./);
    const stopped = (await describe_([id!])).get(id!)!;
    assert.equal(stopped.InstanceState, 'STOPPED');
    assert.equal(stopped.LatestOperation, 'StopInstances');
    assert.equal(stopped.LatestOperationState, 'SUCCESS');
    assert.equal(stopped.LatestOperationRequestId, stop.RequestId);
    assert.equal(stopped.StopChargingMode, 'KEEP_CHARGING');
    assert.deepEqual(stopped.PrivateIpAddresses, [before_.private_ip]);
    assert.deepEqual(stopped.SecurityGroupIds, [sg]);
    const afterStop = await row(id!);
    assert.deepEqual(
      { ...afterStop, state: undefined, latest_operation: undefined, latest_operation_request_id: undefined, spec: undefined },
      { ...before_, state: undefined, latest_operation: undefined, latest_operation_request_id: undefined, spec: undefined },
      'host, address, MAC, ENI and placement revision are kept',
    );
    assert.equal(afterStop.host_id, HOST);
    // The change log names the instance, so the hosts of its VPC get documents without its port.
    const stopRevision = await store.revision();
    assert.deepEqual((await changesOf(id!)).at(-1), { revision: stopRevision, kind: 'instance', op: 'update' });
    // The address stays taken while stopped.
    assert.equal(
      (await store.db.selectFrom('private_ips').select('owner_id').where('ip', '=', before_.private_ip).where('subnet_id', '=', subnetId).executeTakeFirst())?.owner_id,
      id,
    );

    const filtered = async (state: string) =>
      (await cvm.DescribeInstances({ Filters: [{ Name: 'instance-state', Values: [state] }, { Name: 'instance-id', Values: [id!] }] })).InstanceSet!.map((i) => i.InstanceId);
    assert.deepEqual(await filtered('STOPPED'), [id]);
    assert.deepEqual(await filtered('RUNNING'), []);

    const start = await cvm.StartInstances({ InstanceIds: [id!] });
    const startRevision = await store.revision();
    assert.deepEqual(await stateOf(id!), ['PENDING', 'StartInstances', 'OPERATING'], 'pending until the host applied the document with its port');
    const afterStart = await row(id!);
    assert.equal(afterStart.placed_revision, startRevision);
    assert.equal(afterStart.host_id, HOST);
    assert.equal(afterStart.latest_operation_request_id, start.RequestId);
    assert.deepEqual((await changesOf(id!)).at(-1), { revision: startRevision, kind: 'instance', op: 'update' });
    assert.deepEqual(await filtered('PENDING'), [id]);

    // The host applying an older revision is not enough.
    await store.write((w) => w.tx.updateTable('hosts').set({ applied_revision: startRevision - 1 }).where('id', '=', HOST).execute());
    assert.deepEqual(await stateOf(id!), ['PENDING', 'StartInstances', 'OPERATING']);
    await applyAll();
    assert.deepEqual(await stateOf(id!), ['RUNNING', 'StartInstances', 'SUCCESS']);
    const running = (await describe_([id!])).get(id!)!;
    assert.equal(running.StopChargingMode, 'NOT_APPLICABLE');
    assert.deepEqual(running.PrivateIpAddresses, [before_.private_ip]);
    assert.deepEqual(await filtered('RUNNING'), [id]);

    // And it stops again.
    await cvm.StopInstances({ InstanceIds: [id!] });
    assert.deepEqual(await stateOf(id!), ['STOPPED', 'StopInstances', 'SUCCESS']);
    await cvm.TerminateInstances({ InstanceIds: [id!] });
  });

  it('stops and starts a batch, echoes StoppedMode, and takes the deprecated ForceStop', async () => {
    const cvm = r.cvm();
    const ids = await launchRunning(3);
    await cvm.StopInstances({ InstanceIds: [...ids, ids[0]!], StopType: 'HARD', StoppedMode: 'STOP_CHARGING' });
    const stopped = await describe_(ids);
    assert.deepEqual(
      ids.map((id) => [stopped.get(id)!.InstanceState, stopped.get(id)!.StopChargingMode]),
      ids.map(() => ['STOPPED', 'STOP_CHARGING']),
    );
    await cvm.StartInstances({ InstanceIds: ids });
    await applyAll();
    const started = await describe_(ids);
    assert.deepEqual(
      ids.map((id) => [started.get(id)!.InstanceState, started.get(id)!.StopChargingMode]),
      ids.map(() => ['RUNNING', 'NOT_APPLICABLE']),
    );
    await cvm.StopInstances({ InstanceIds: ids, ForceStop: true, StoppedMode: 'KEEP_CHARGING' });
    assert.deepEqual([...(await describe_(ids)).values()].map((i) => i.StopChargingMode), ['KEEP_CHARGING', 'KEEP_CHARGING', 'KEEP_CHARGING']);
    await cvm.TerminateInstances({ InstanceIds: ids });
  });

  it('reboots a running instance: only LatestOperation changes, and nothing is logged for the network', async () => {
    const cvm = r.cvm();
    const [id] = await launchRunning();
    const changes = await changesOf(id!);
    const before_ = await row(id!);
    const res = await cvm.RebootInstances({ InstanceIds: [id!], StopType: 'SOFT_FIRST' });
    assert.deepEqual(await stateOf(id!), ['RUNNING', 'RebootInstances', 'SUCCESS']);
    const after_ = await row(id!);
    assert.deepEqual(after_, { ...before_, latest_operation: 'RebootInstances', latest_operation_request_id: res.RequestId });
    assert.deepEqual(await changesOf(id!), changes);
    await cvm.RebootInstances({ InstanceIds: [id!], ForceReboot: true });
    await cvm.TerminateInstances({ InstanceIds: [id!] });
  });

  it('refuses instances in the wrong state with CVM\'s codes, all-or-nothing for the batch', async () => {
    const cvm = r.cvm();
    const [running, stopped] = await launchRunning(2);
    await cvm.StopInstances({ InstanceIds: [stopped!] });
    // Placed but not yet applied by its host: PENDING.
    const [pending] = await launchPlaced();
    // No host has it yet: PENDING too (a fresh launch in a zone without a host).
    const vpc = r.vpc();
    const sub2 = (await vpc.CreateSubnet({ VpcId: vpcId, SubnetName: 'p2', CidrBlock: '10.0.2.0/24', Zone: 'local-2' })).Subnet!.SubnetId!;
    const unplaced = (await cvm.RunInstances({ Placement: { Zone: 'local-2' }, VirtualPrivateCloud: { VpcId: vpcId, SubnetId: sub2 } })).InstanceIdSet![0]!;
    assert.deepEqual(
      [await stateOf(running!), await stateOf(stopped!), await stateOf(pending!), await stateOf(unplaced)].map((s) => s[0]),
      ['RUNNING', 'STOPPED', 'PENDING', 'PENDING'],
    );
    const snap = await snapshot();
    for (const [what, call, code] of [
      ['stop a stopped one', () => cvm.StopInstances({ InstanceIds: [running!, stopped!] }), 'UnsupportedOperation.InstanceStateStopped'],
      ['stop a pending one', () => cvm.StopInstances({ InstanceIds: [running!, pending!] }), 'UnsupportedOperation.InstanceStatePending'],
      ['stop an unplaced one', () => cvm.StopInstances({ InstanceIds: [unplaced] }), 'UnsupportedOperation.InstanceStatePending'],
      ['start a running one', () => cvm.StartInstances({ InstanceIds: [stopped!, running!] }), 'UnsupportedOperation.InstanceStateRunning'],
      ['start a pending one', () => cvm.StartInstances({ InstanceIds: [stopped!, pending!] }), 'UnsupportedOperation.InstanceStatePending'],
      ['reboot a stopped one', () => cvm.RebootInstances({ InstanceIds: [running!, stopped!] }), 'UnsupportedOperation.InstanceStateStopped'],
      ['reboot a pending one', () => cvm.RebootInstances({ InstanceIds: [running!, pending!] }), 'UnsupportedOperation.InstanceStatePending'],
      ['stop a missing one', () => cvm.StopInstances({ InstanceIds: [running!, 'ins-00000000'] }), 'InvalidInstanceId.NotFound'],
      ['start a missing one', () => cvm.StartInstances({ InstanceIds: [stopped!, 'ins-00000000'] }), 'InvalidInstanceId.NotFound'],
      ['reboot a missing one', () => cvm.RebootInstances({ InstanceIds: ['ins-00000000'] }), 'InvalidInstanceId.NotFound'],
      ['malformed ID', () => cvm.StopInstances({ InstanceIds: [running!, 'i-123'] }), 'InvalidInstanceId.Malformed'],
      ['malformed ID (start)', () => cvm.StartInstances({ InstanceIds: ['ins-UPPER000'] }), 'InvalidInstanceId.Malformed'],
      ['no IDs', () => cvm.StopInstances({ InstanceIds: [] }), 'InvalidParameterValue'],
      ['no InstanceIds', () => cvm.StartInstances(loose({})), 'MissingParameter'],
      ['101 IDs', () => cvm.RebootInstances({ InstanceIds: Array.from({ length: 101 }, (_, i) => `ins-${String(i).padStart(8, '0')}`) }), 'InvalidParameterValue.LimitExceeded'],
      ['ForceStop with StopType', () => cvm.StopInstances({ InstanceIds: [running!], ForceStop: true, StopType: 'HARD' }), 'InvalidParameterCombination'],
      ['ForceReboot with StopType', () => cvm.RebootInstances({ InstanceIds: [running!], ForceReboot: false, StopType: 'SOFT' }), 'InvalidParameterCombination'],
      ['unknown StopType', () => cvm.StopInstances({ InstanceIds: [running!], StopType: 'GENTLE' }), 'InvalidParameterValue'],
      ['unknown StoppedMode', () => cvm.StopInstances({ InstanceIds: [running!], StoppedMode: 'FREE' }), 'InvalidParameterValue'],
      ['ForceStop not a boolean', () => cvm.StopInstances(loose({ InstanceIds: [running!], ForceStop: 'yes' })), 'InvalidParameter'],
    ] as const) {
      assert.equal(await errorCode(call()), code, what);
      assert.deepEqual(await snapshot(), snap, `${what}: nothing changed`);
    }
    const e = await errorOf(cvm.StartInstances({ InstanceIds: [stopped!, running!] }));
    assert.match(e.message, new RegExp(`${running}.*RUNNING.*StartInstances`));
    await cvm.TerminateInstances({ InstanceIds: [running!, stopped!, pending!, unplaced] });
  });

  it('treats another account\'s instances as missing', async () => {
    const creds = await r.newAccount('power-other');
    const theirVpc = r.vpc(creds);
    const tv = (await theirVpc.CreateVpc({ VpcName: 'v', CidrBlock: '10.0.0.0/16' })).Vpc!.VpcId!;
    const ts = (await theirVpc.CreateSubnet({ VpcId: tv, SubnetName: 's', CidrBlock: '10.0.1.0/24', Zone: 'local-1' })).Subnet!.SubnetId!;
    const [theirs] = await launchPlaced(1, r.cvm(creds), ts, tv);
    const [mine] = await launchRunning();
    await r.cvm().StopInstances({ InstanceIds: [mine!] });
    await applyAll();
    const snap = await snapshot();
    for (const [what, call] of [
      ['I stop theirs', () => r.cvm().StopInstances({ InstanceIds: [theirs!] })],
      ['I reboot theirs', () => r.cvm().RebootInstances({ InstanceIds: [theirs!] })],
      ['they start mine', () => r.cvm(creds).StartInstances({ InstanceIds: [mine!] })],
    ] as const) {
      assert.equal(await errorCode(call()), 'InvalidInstanceId.NotFound', what);
      assert.deepEqual(await snapshot(), snap, what);
    }
    assert.equal((await stateOf(mine!))[0], 'STOPPED');
    await r.cvm(creds).StopInstances({ InstanceIds: [theirs!] });
    await r.cvm(creds).TerminateInstances({ InstanceIds: [theirs!] });
    await r.cvm().TerminateInstances({ InstanceIds: [mine!] });
  });

  it('changes the groups of a stopped instance, then terminates it and frees its address', async () => {
    const cvm = r.cvm();
    const [id] = await launchRunning();
    const ip = (await row(id!)).private_ip;
    await cvm.StopInstances({ InstanceIds: [id!] });
    await cvm.DisassociateSecurityGroups({ SecurityGroupIds: [sg], InstanceIds: [id!] });
    assert.deepEqual((await describe_([id!])).get(id!)!.SecurityGroupIds, []);
    await cvm.AssociateSecurityGroups({ SecurityGroupIds: [sg], InstanceIds: [id!] });
    assert.deepEqual(await stateOf(id!), ['STOPPED', 'AssociateSecurityGroups', 'SUCCESS']);
    await cvm.TerminateInstances({ InstanceIds: [id!] });
    assert.equal((await cvm.DescribeInstances({ InstanceIds: [id!] })).TotalCount, 0);
    assert.equal(await store.db.selectFrom('private_ips').select('ip').where('ip', '=', ip).where('subnet_id', '=', subnetId).executeTakeFirst(), undefined);
    assert.deepEqual((await changesOf(id!)).at(-1)?.op, 'delete');
  });
});
