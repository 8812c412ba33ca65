/**
 * Usage errors the CLI catches before any request (exit 2, nothing on
 * stdout): the endpoint here answers nothing, so a request would exit 1.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { before, describe, it } from 'node:test';
import { run } from '../helpers/region.js';

describe('usage errors before any request', () => {
  let env: Record<string, string> = {};
  before(async () => {
    const s = createServer();
    await new Promise<void>((ok) => s.listen(0, '127.0.0.1', ok));
    const port = (s.address() as { port: number }).port;
    await new Promise<void>((ok) => s.close(() => ok()));
    env = { WEFT_ENDPOINT: `127.0.0.1:${port}`, WEFT_SECRET_ID: 'AKIDx', WEFT_SECRET_KEY: 'x', WEFT_REGION: 'local' };
  });
  const usage = async (args: string[], why: RegExp) => {
    const res = await run(args, env);
    assert.equal(res.code, 2, `${args.join(' ')}: ${res.stdout}${res.stderr}`);
    assert.match(res.stderr, why, args.join(' '));
    assert.equal(res.stdout, '');
  };

  it('an object or list parameter that looks like JSON but is not', async () => {
    await usage(['cvm', 'RunInstances', '--Placement', '{Zone:local-1}'], /^weft: `--Placement` is not valid JSON: .*position 1/);
    await usage(['vpc', 'DescribeVpcs', '--Filters', '[{"Name":"vpc-name"'], /`--Filters` is not valid JSON/);
    await usage(['vpc', 'CreateVpc', '--VpcName', 'a', '--CidrBlock', '10.0.0.0/16', '--DnsServers', '[10.0.0.2]'], /`--DnsServers` is not valid JSON/);
  });

  it('a string parameter may start with [ or {: it is sent as text', async () => {
    const res = await run(['vpc', 'CreateVpc', '--VpcName', '[draft', '--CidrBlock', '10.0.0.0/16'], env);
    assert.equal(res.code, 1, 'sent (and the closed endpoint fails the call)');
    assert.match(res.stderr, /cannot call/);
  });

  it('a misspelt action: did you mean the nearest actions of that service', async () => {
    await usage(['vpc', 'CreateVpcs'], /^weft: vpc has no action `CreateVpcs`; did you mean CreateVpc\?$/m);
    await usage(['vpc', 'describevpcs'], /did you mean DescribeVpcs\?/);
    await usage(['cvm', 'RunInstance', '--Placement.Zone', 'local-1'], /did you mean RunInstances\?/);
    await usage(['vpc', 'DescribeSecurityGroup'], /did you mean DescribeSecurityGroups\?/);
    await usage(['vpc', 'Frobnicate'], /no action `Frobnicate`; known: .*CreateVpc/);
  });
});
