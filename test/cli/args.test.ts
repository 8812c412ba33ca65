/** The CLI's tccli-style parameter parsing (pure). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { arr, int, obj, opt, str } from '../../src/api/params.js';
import { notJsonError, parseActionArgs, preferStrings, UsageError } from '../../src/cli/args.js';

const params = (...argv: string[]) => parseActionArgs(argv).params;

describe('parseActionArgs', () => {
  it('reads JSON-looking values as JSON and everything else as text', () => {
    assert.deepEqual(
      params('--A', 'x', '--B', '12', '--C', '-1.5', '--D', 'true', '--E', 'null', '--F', '[1,"a"]', '--G', '{"k":{"v":[true]}}', '--H', '10.0.0.0/16', '--I', '[not json', '--J', ''),
      { A: 'x', B: 12, C: -1.5, D: true, E: null, F: [1, 'a'], G: { k: { v: [true] } }, H: '10.0.0.0/16', I: '[not json', J: '' },
    );
  });

  it('builds lists and objects from dotted names, and --Name=value', () => {
    assert.deepEqual(params('--Filters.0.Name', 'vpc-name', '--Filters.0.Values.0', 'a', '--Filters.0.Values.1', 'b', '--Filters.1.Name=vpc-id', '--Filters.1.Values.0=vpc-1=2'), {
      Filters: [
        { Name: 'vpc-name', Values: ['a', 'b'] },
        { Name: 'vpc-id', Values: ['vpc-1=2'] },
      ],
    });
    assert.deepEqual(params('--Placement.Zone', 'local-1', '--Placement.ProjectId', '0'), { Placement: { Zone: 'local-1', ProjectId: 0 } });
    // Dotted members added to a JSON value.
    assert.deepEqual(params('--Filters', '[{"Name":"a","Values":["x"]}]', '--Filters.1.Name', 'b'), { Filters: [{ Name: 'a', Values: ['x'] }, { Name: 'b' }] });
  });

  it('records values that start with { or [ but are not JSON, and fails them only where an object or list is wanted', () => {
    const p = parseActionArgs(['--Placement', '{Zone:local-1}', '--VpcName', '[draft', '--A', '[1]', '--B', 'x']);
    assert.deepEqual(p.params, { Placement: '{Zone:local-1}', VpcName: '[draft', A: [1], B: 'x' });
    assert.deepEqual(p.notJson.map((n) => [n.path, n.raw]), [[['Placement'], '{Zone:local-1}'], [['VpcName'], '[draft']]);
    const e = notJsonError(p.notJson, (path) => path[0] === 'Placement');
    assert.ok(e instanceof UsageError);
    assert.match(e.message, /^`--Placement` is not valid JSON: .+ \(got \{Zone:local-1\}\)$/);
    assert.equal(notJsonError(p.notJson, () => false), undefined);
  });

  it('keeps its own options apart from the parameters', () => {
    const p = parseActionArgs(['--data-dir', '/d', '--VpcName', 'a', '--endpoint=h:1', '--region', 'r', '--help']);
    assert.deepEqual(p.params, { VpcName: 'a' });
    assert.deepEqual([p.dataDir, p.endpoint, p.region, p.help], ['/d', 'h:1', 'r', true]);
    assert.equal(parseActionArgs([]).help, false);
  });

  it('records which values were guessed to be numbers, booleans or null', () => {
    const p = parseActionArgs(['--VpcName', '2024', '--Limit', '5', '--DnsServers', '["1"]', '--A.0', 'false', '--B', 'null', '--C', 'x']);
    assert.deepEqual(p.guesses, [
      { path: ['VpcName'], raw: '2024' },
      { path: ['Limit'], raw: '5' },
      { path: ['A', '0'], raw: 'false' },
      { path: ['B'], raw: 'null' },
    ]);
  });

  const usage: [string[], RegExp][] = [
    [['VpcName', 'a'], /expected --Param value/],
    [['-V', 'a'], /expected --Param value/],
    [['--', 'a'], /expected --Param value/],
    [['--VpcName'], /needs a value/],
    [['--A..B', 'x'], /not a parameter name/],
    [['--A.', 'x'], /not a parameter name/],
    [['--__proto__.polluted', 'x'], /not a parameter name/],
    [['--A.constructor.prototype.x', 'x'], /not a parameter name/],
    [['--A', '1', '--A.B', '2'], /already has the value 1/],
    [['--A', 'x', '--A', 'y'], /second time/],
    [['--A.0', 'x', '--A.0', 'y'], /second time/],
    [['--A.0', 'x', '--A.B', 'y'], /is a list/],
    [['--A', '[1]', '--A.x', 'y'], /is a list/],
    [['--A.1', 'x'], /`A\.0` is missing/],
    [['--A.0.B.0', 'x', '--A.0.B.2', 'y'], /`A\.0\.B\.1` is missing/],
  ];
  for (const [argv, why] of usage)
    it(`refuses ${argv.join(' ')} as a usage error`, () => {
      assert.throws(() => parseActionArgs(argv), (e: unknown) => e instanceof UsageError && why.test(e.message));
    });

  it('never touches Object.prototype', () => {
    try {
      parseActionArgs(['--__proto__.polluted', 'yes']);
    } catch {
      /* refused, as it should be */
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('rebuilds any nested value of text leaves from its dotted spelling', () => {
    const key = fc.stringMatching(/^[A-Z][A-Za-z]{0,6}$/);
    const leaf = fc.stringMatching(/^[a-z][a-z0-9/.-]{0,10}$/).filter((s) => !['true', 'false', 'null'].includes(s));
    const tree = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('node'), { minLength: 1, maxLength: 3 }), fc.dictionary(key, tie('node'), { minKeys: 1, maxKeys: 3, noNullPrototype: true })),
    })).node;
    const flatten = (v: unknown, path: string, out: string[]) => {
      if (Array.isArray(v)) v.forEach((x, i) => flatten(x, `${path}.${i}`, out));
      else if (typeof v === 'object' && v !== null) for (const [k, x] of Object.entries(v)) flatten(x, `${path}.${k}`, out);
      else out.push(`--${path}`, String(v));
      return out;
    };
    fc.assert(
      fc.property(fc.dictionary(key, tree, { minKeys: 1, maxKeys: 4, noNullPrototype: true }), (value) => {
        const argv = Object.entries(value).flatMap(([k, v]) => flatten(v, k, []));
        assert.deepEqual(params(...argv), value);
      }),
    );
  });
});

describe('preferStrings', () => {
  const schema = obj({
    VpcName: str(),
    Limit: opt(int()),
    Tags: opt(arr(obj({ Key: str(), Value: opt(str()) }))),
    Ids: opt(arr(str())),
  });
  const problem = (p: Record<string, unknown>) => {
    try {
      schema.parse(p, '');
      return undefined;
    } catch (e) {
      return (e as Error).message;
    }
  };
  const coerce = (...argv: string[]) => {
    const a = parseActionArgs(argv);
    return preferStrings(a.params, a.guesses, problem);
  };

  it('turns guessed numbers and booleans back into text where the schema wants text', () => {
    assert.deepEqual(coerce('--VpcName', '2024', '--Limit', '5', '--Tags.0.Key', 'true', '--Tags.0.Value', '1.50', '--Ids.0', 'null'), {
      VpcName: '2024',
      Limit: 5,
      Tags: [{ Key: 'true', Value: '1.50' }],
      Ids: ['null'],
    });
  });

  it('keeps explicit JSON as typed, and leaves the server to reject what is really wrong', () => {
    assert.deepEqual(coerce('--VpcName', 'a', '--Ids', '[1]'), { VpcName: 'a', Ids: [1] });
    assert.deepEqual(coerce('--VpcName', 'a', '--Limit', 'many'), { VpcName: 'a', Limit: 'many' });
    assert.deepEqual(coerce('--Limit', '5'), { Limit: 5 }, 'a missing VpcName is not a guess to undo');
  });

  it('does not change the caller’s object', () => {
    const a = parseActionArgs(['--VpcName', '7']);
    preferStrings(a.params, a.guesses, problem);
    assert.deepEqual(a.params, { VpcName: 7 });
  });
});
