/**
 * The web console in a real browser (Debian's chromium, playwright-core)
 * against a region in a box on the sim data plane: sign in (a wrong key is
 * refused with Tencent's code), create a VPC, subnet, security group and
 * instances through the forms and see them RUNNING, an API error shown under
 * the form that caused it (bad CIDR) with nothing created, a security-group
 * change previewed before it is saved, a packet traced and its path drawn on
 * the topology, sign out. Screenshots of the main pages go to
 * test-artifacts/console/.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launch, noBrowser, shot, signIn } from '../helpers/browser.js';
import { startBox, until, type Box } from '../helpers/box.js';

describe('the web console in a browser', { skip: noBrowser }, () => {
  let box: Box;
  let browser: Browser;
  let page: Page;
  let key: { SecretId: string; SecretKey: string; Endpoint: string };
  before(async () => {
    box = await startBox(2, {}, 0, 0, 'sim');
    key = JSON.parse((await import('node:fs')).readFileSync(`${box.dataDir}/credentials.json`, 'utf8'));
    browser = await launch();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  });
  after(async () => {
    await browser?.close();
    await box?.down();
  });

  const go = async (path: string) => {
    await page.click(`nav a[data-nav="${path}"]`);
    await page.waitForURL(new RegExp(`#/${path}`));
  };
  const vpcIdByName = async (name: string) => (await box.vpc.DescribeVpcs({ Filters: [{ Name: 'vpc-name', Values: [name] }] })).VpcSet!.find((v) => v.VpcName === name)?.VpcId;

  it('refuses a wrong key with the API error, and signs in with a right one', async () => {
    await page.goto(`http://${key.Endpoint}/console/`);
    await page.fill('[data-testid=signin] input[name=secretId]', 'AKIDnotakey000000000000000000000000');
    await page.fill('[data-testid=signin] input[name=secretKey]', 'x');
    await page.click('[data-testid=signin] button[type=submit]');
    const alert = page.locator('[data-testid=signin] [role=alert]');
    await alert.waitFor();
    assert.equal(await alert.getAttribute('data-code'), 'AuthFailure.SecretIdNotFound');
    await shot(page, '00-signin-refused');
    await signIn(page, key.Endpoint, key);
  });

  it('shows an API error for a bad CIDR beside the form, and creates nothing', async () => {
    await go('vpcs');
    const form = page.locator('[data-testid=create-vpc]');
    await form.locator('input[name=VpcName]').fill('bad');
    await form.locator('input[name=CidrBlock]').fill('10.0.0.0/33');
    await form.locator('button[type=submit]').click();
    const alert = form.locator('[role=alert]');
    await alert.waitFor();
    assert.equal(await alert.getAttribute('data-code'), 'InvalidParameterValue.Malformed');
    assert.match((await alert.textContent())!, /10\.0\.0\.0\/33/);
    assert.equal(await vpcIdByName('bad'), undefined);
    await shot(page, '01-vpc-error');
  });

  it('creates a VPC, subnet, security group and instances through the forms, and sees them RUNNING', async () => {
    const vpcForm = page.locator('[data-testid=create-vpc]');
    await vpcForm.locator('input[name=VpcName]').fill('web');
    await vpcForm.locator('input[name=CidrBlock]').fill('10.0.0.0/16');
    await vpcForm.locator('button[type=submit]').click();
    const vpcId = await until('the VPC', () => vpcIdByName('web'));
    await page.locator(`[data-testid=vpcs] tr[data-row="${vpcId}"]`).waitFor();
    await shot(page, '02-vpcs');

    await go('subnets');
    const subnetForm = page.locator('[data-testid=create-subnet]');
    await subnetForm.locator('select[name=VpcId]').selectOption(vpcId);
    await subnetForm.locator('input[name=SubnetName]').fill('app');
    await subnetForm.locator('input[name=CidrBlock]').fill('10.0.1.0/24');
    await subnetForm.locator('button[type=submit]').click();
    const subnetId = await until('the subnet', async () => (await box.vpc.DescribeSubnets({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] })).SubnetSet![0]?.SubnetId);
    await page.locator(`[data-testid=subnets] tr[data-row="${subnetId}"]`).waitFor();
    await shot(page, '03-subnets');

    await go('security-groups');
    const sgForm = page.locator('[data-testid=create-security-group]');
    await sgForm.locator('input[name=GroupName]').fill('ssh');
    await sgForm.locator('input[name=GroupDescription]').fill('ssh only');
    await sgForm.locator('button[type=submit]').click();
    const sgId = await until('the group', async () => (await box.vpc.DescribeSecurityGroups({ Filters: [{ Name: 'security-group-name', Values: ['ssh'] }] })).SecurityGroupSet![0]?.SecurityGroupId);
    await page.locator(`[data-testid=security-groups] tr[data-row="${sgId}"]`).waitFor();

    await go('instances');
    const run = page.locator('[data-testid=run-instances]');
    for (const name of ['a', 'b']) {
      await run.locator('select[name=VpcId]').selectOption(vpcId);
      await run.locator('select[name=SubnetId]').selectOption(subnetId);
      await run.locator('select[name=SecurityGroupIds]').selectOption(sgId);
      await run.locator('input[name=InstanceName]').fill(name);
      await run.locator('button[type=submit]').click();
      await until(`instance ${name}`, async () => (await box.cvm.DescribeInstances({ Filters: [{ Name: 'instance-name', Values: [name] }] })).InstanceSet!.length > 0);
    }
    const ids = (await box.cvm.DescribeInstances({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] })).InstanceSet!.map((i) => i.InstanceId!);
    assert.equal(ids.length, 2);
    for (const id of ids) await page.locator(`[data-testid=instances] tr[data-row="${id}"] .state-RUNNING`).waitFor({ timeout: 30_000 });
    await shot(page, '04-instances');
  });

  it('previews a security-group change (which flows it opens) before saving it', async () => {
    await go('security-groups');
    const sgId = (await box.vpc.DescribeSecurityGroups({ Filters: [{ Name: 'security-group-name', Values: ['ssh'] }] })).SecurityGroupSet![0]!.SecurityGroupId!;
    await page.locator(`[data-testid=security-groups] tr[data-row="${sgId}"]`).click();
    const form = page.locator('[data-testid=sg-policy-form]');
    await form.waitFor();
    const preview = page.locator('[data-testid=sg-preview-result]');
    const rule = async (direction: string, protocol: string, port: string, cidr: string) => {
      await form.locator('select[name=Direction]').selectOption(direction);
      await form.locator('select[name=Protocol]').selectOption(protocol);
      await form.locator('input[name=Port]').fill(port);
      await form.locator('input[name=CidrBlock]').fill(cidr);
      await form.locator('select[name=Action]').selectOption('ACCEPT');
      await page.click('[data-testid=sg-preview]');
      await page.locator('[data-testid=sg-preview-result][data-state=done]').waitFor();
    };
    // The group denies everything both ways. Opening egress alone changes no flow: nothing is let in yet.
    await rule('egress', 'ALL', 'ALL', '0.0.0.0/0');
    await page.locator('[data-testid=sg-preview-none]').waitFor();
    await page.click('[data-testid=sg-save]');
    await until('the egress rule saved', async () => (await box.vpc.DescribeSecurityGroupPolicies({ SecurityGroupId: sgId })).SecurityGroupPolicySet!.Egress!.length === 1);
    // Then TCP 22 in from the VPC: a and b reach each other on 22, both ways.
    await rule('ingress', 'TCP', '22', '10.0.0.0/16');
    await until('the changed flows', async () => (await preview.locator('[data-flow]').count()) >= 2);
    assert.ok((await preview.locator('[data-flow][data-after*=delivered]').count()) >= 2, await preview.innerHTML());
    const before = (await box.vpc.DescribeSecurityGroupPolicies({ SecurityGroupId: sgId })).SecurityGroupPolicySet!.Ingress!.length;
    assert.equal(before, 0, 'a preview saves nothing');
    await shot(page, '05-sg-preview');
    await page.click('[data-testid=sg-save]');
    await until('the rule saved', async () => (await box.vpc.DescribeSecurityGroupPolicies({ SecurityGroupId: sgId })).SecurityGroupPolicySet!.Ingress!.length === 1);
  });

  it('traces a packet and draws its path on the topology', async () => {
    const vpcId = (await vpcIdByName('web'))!;
    const [a, b] = (await box.cvm.DescribeInstances({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }], Limit: 10 })).InstanceSet!.sort((x, y) => x.InstanceName!.localeCompare(y.InstanceName!));
    await page.goto(`http://${key.Endpoint}/console/#/topology/${vpcId}`);
    await page.locator('.react-flow__node').first().waitFor();
    const form = page.locator('[data-testid=trace-form]');
    await form.locator('select[name=SourceInstanceId]').selectOption(a!.InstanceId!);
    await form.locator('select[name=DestinationInstanceId]').selectOption(b!.InstanceId!);
    await form.locator('select[name=Protocol]').selectOption('TCP');
    await form.locator('input[name=Port]').fill('22');
    await form.locator('button[type=submit]').click();
    const verdict = page.locator('[data-testid=trace-verdict]');
    await verdict.waitFor();
    assert.match((await verdict.textContent())!, /delivered/);
    const hops = page.locator('[data-testid=trace-path] [data-hop]');
    assert.ok((await hops.count()) >= 3, 'hop by hop');
    assert.ok((await page.locator('.react-flow__edge.traced').count()) >= 1, 'the path drawn on the graph');
    await shot(page, '06-trace-delivered');
    // Port 80 is not open: dropped by the security group, which the hop list names.
    await form.locator('input[name=Port]').fill('80');
    await form.locator('button[type=submit]').click();
    await until('the drop', async () => /dropped/.test((await verdict.textContent()) ?? ''));
    assert.ok((await page.locator('[data-testid=trace-path] [data-hop="security-group"][data-result="drop"]').count()) === 1);
    await shot(page, '07-trace-dropped');
  });

  it('opens every page without a script error, and each shows what the API answered', async () => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const paths = await page.locator('nav a[data-nav]').evaluateAll((as) => as.map((a) => a.getAttribute('data-nav')!));
    assert.ok(paths.length >= 15, `pages: ${paths.join(', ')}`);
    for (const path of paths) {
      await go(path);
      // A list shows its total, a form its fields, the status page its hosts: wait until the page holds data.
      await page.waitForFunction(() => !document.querySelector('main')?.textContent?.includes('Loading…'), undefined, { timeout: 15_000 });
      const alerts = await page.locator('main [role=alert]').allTextContents();
      assert.deepEqual(alerts, [], `${path}: ${alerts.join('; ')}`);
      await shot(page, `page-${path}`);
    }
    assert.deepEqual(errors, []);
  });

  it('switches to Simplified Chinese and back', async () => {
    await go('vpcs');
    await page.click('[data-testid=lang]');
    await page.locator('nav a[data-nav="vpcs"]', { hasText: '私有网络' }).waitFor();
    await shot(page, '08-zh');
    await page.click('[data-testid=lang]');
    await page.locator('nav a[data-nav="vpcs"]', { hasText: 'VPCs' }).waitFor();
  });

  it('signs out and forgets the key', async () => {
    await page.click('[data-testid=signout]');
    await page.locator('[data-testid=signin]').waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.length), 0);
  });
});
