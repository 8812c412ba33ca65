/**
 * One request ID followed end to end (issue 11 item 6): the API call's log
 * line in the controller's log, the change log row, and the apply line of
 * the agent whose kernel the change reached, all carry the RequestId the
 * SDK was answered with.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isRoot, openInstance, startBox, until, type Box } from '../helpers/box.js';

const lines = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return [];
      }
    });

describe('a request ID from the API call to the agents’ applies', { skip: isRoot ? false : 'needs root (a region in a box)' }, () => {
  let box: Box;
  before(async () => {
    box = await startBox(1, { WEFT_LOG_LEVEL: 'info' });
  });
  after(async () => {
    await box?.down();
  });

  it('the API line, and the apply of the host that holds the instance, carry the RequestId', async () => {
    const { vpcId } = await openInstance(box, 'req');
    const sg = (await box.vpc.DescribeSecurityGroups({ Filters: [{ Name: 'security-group-name', Values: ['req'] }] })).SecurityGroupSet![0]!.SecurityGroupId!;
    const answer = await box.vpc.CreateSecurityGroupPolicies({
      SecurityGroupId: sg,
      SecurityGroupPolicySet: { Ingress: [{ Protocol: 'TCP', Port: '2222', CidrBlock: '10.9.0.0/16', Action: 'DROP' }] },
    });
    const id = answer.RequestId!;
    assert.ok(vpcId && id);
    const api = await until('the API line', async () => lines(join(box.dataDir, 'logs', 'up.log')).find((l) => l.requestId === id && l.component === 'api'));
    assert.equal(api.action, 'CreateSecurityGroupPolicies');
    assert.equal(typeof api.ms, 'number');
    const applied = await until('the agent’s apply line', async () =>
      lines(join(box.dataDir, 'logs', 'agent-h1.log')).find((l) => Array.isArray(l.requestIds) && (l.requestIds as string[]).includes(id)),
    );
    assert.equal(applied.component, 'agent');
    assert.equal(applied.host, 'h1');
    assert.match(String(applied.msg), /^applied revision \d+: [1-9]\d* change\(s\)/, 'the change reached the kernel');
  });
});
