import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  checkList,
  checkVersion,
  contentKey,
  deleteAt,
  deleteMatching,
  findDuplicate,
  insertAt,
  moveTo,
  parsePolicy,
  parsePort,
  parseProtocol,
  PolicyError,
  portSpec,
  PROTOCOLS,
  replaceAt,
  sharedIndex,
  type Entry,
  type Policy,
  type PolicyInput,
} from '../../src/core/sg-policy.js';

/** The code a call fails with (fails the test if it succeeds or throws something else). */
function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof PolicyError) return e.code;
    throw e;
  }
  throw new Error('expected a PolicyError, but the call succeeded');
}

const anyCase = (s: string) => fc.array(fc.boolean(), { minLength: s.length, maxLength: s.length }).map((up) => [...s].map((c, i) => (up[i] ? c.toUpperCase() : c.toLowerCase())).join(''));

/** Distinct policies: a distinct TCP port each, other fields random. */
const policies = (max = 12) =>
  fc
    .uniqueArray(fc.integer({ min: 1, max: 65535 }), { maxLength: max })
    .chain((ports) =>
      fc.tuple(
        fc.constant(ports),
        fc.array(fc.record({ drop: fc.boolean(), desc: fc.string({ maxLength: 5 }) }), { minLength: ports.length, maxLength: ports.length }),
      ),
    )
    .map(([ports, extra]) =>
      ports.map(
        (p, i): Policy => ({
          protocol: 'TCP',
          port: String(p),
          cidr: '10.0.0.0/8',
          ipv6Cidr: '',
          sgRef: '',
          action: extra[i]!.drop ? 'DROP' : 'ACCEPT',
          description: extra[i]!.desc,
        }),
      ),
    );

describe('protocol, action and port parsing', () => {
  it('accepts every protocol in any case and answers it upper-case', () => {
    fc.assert(
      fc.property(fc.constantFrom(...PROTOCOLS).chain((p) => fc.tuple(fc.constant(p), anyCase(p))), ([p, written]) => {
        assert.equal(parseProtocol(written, 'P'), p);
      }),
    );
    assert.equal(codeOf(() => parseProtocol('SCTP', 'P')), 'InvalidParameterValue');
    assert.equal(codeOf(() => parseProtocol('gre', 'P')), 'UnsupportedOperation');
  });

  it('keeps a single port, a range and a list as written, canonically', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 65535 }), fc.integer({ min: 1, max: 65535 }), (a, b) => {
        assert.equal(parsePort(String(a), 'Port'), String(a));
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        assert.equal(parsePort(`${lo}-${hi}`, 'Port'), `${lo}-${hi}`);
        assert.equal(parsePort(` ${lo} - ${hi} `, 'Port'), `${lo}-${hi}`);
        if (lo < hi) assert.equal(codeOf(() => parsePort(`${hi}-${lo}`, 'Port')), 'InvalidParameterValue.Range');
      }),
    );
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: 65535 }), { minLength: 2, maxLength: 10 }), (ports) => {
        const text = ports.join(', ');
        assert.equal(parsePort(text, 'Port'), ports.join(','));
        assert.deepEqual(portSpec(parsePort(text, 'Port')), ports.map((p) => [p, p]));
        assert.equal(codeOf(() => parsePort([...ports, ports[0]].join(','), 'Port')), 'InvalidParameterValue.Duplicate');
      }),
    );
  });

  it('reads ALL in any case and rejects ports outside 1..65535 or malformed', () => {
    fc.assert(fc.property(anyCase('all'), (s) => assert.equal(parsePort(s, 'Port'), 'ALL')));
    fc.assert(
      fc.property(fc.oneof(fc.constant(0), fc.integer({ min: 65536, max: 99999 })), (n) => {
        assert.equal(codeOf(() => parsePort(String(n), 'Port')), 'InvalidParameterValue.Range');
        assert.equal(codeOf(() => parsePort(`1-${n}`, 'Port')), 'InvalidParameterValue.Range');
      }),
    );
    for (const bad of ['', 'http', '-1', '80-', '1-2-3', '080', '80,8000-8010', '80;443', '1e3', '80 443'])
      assert.equal(codeOf(() => parsePort(bad, 'Port')), 'InvalidParameterValue.Malformed', bad);
  });

  it('portSpec covers exactly the ports a canonical text names', () => {
    assert.equal(portSpec('ALL'), 'ALL');
    assert.deepEqual(portSpec('8000-8010'), [[8000, 8010]]);
    assert.deepEqual(portSpec('22'), [[22, 22]]);
  });
});

describe('one policy', () => {
  const ok: PolicyInput = { Protocol: 'tcp', Port: '22', CidrBlock: '10.0.0.0/8', Action: 'accept' };

  it('normalises what it accepts', () => {
    assert.deepEqual(parsePolicy(ok, 'P'), { protocol: 'TCP', port: '22', cidr: '10.0.0.0/8', ipv6Cidr: '', sgRef: '', action: 'ACCEPT', description: '' });
    assert.equal(parsePolicy({ ...ok, Port: undefined }, 'P').port, 'ALL');
    assert.equal(parsePolicy({ Protocol: 'icmp', CidrBlock: '1.2.3.4', Action: 'DROP' }, 'P').port, 'ALL');
    assert.equal(parsePolicy({ Protocol: 'ALL', Port: 'all', CidrBlock: '0.0.0.0/8', Action: 'DROP' }, 'P').cidr, '0.0.0.0/0');
    assert.equal(parsePolicy({ Protocol: 'icmpv6', Ipv6CidrBlock: '2001:DB8::/32', Action: 'ACCEPT' }, 'P').ipv6Cidr, '2001:db8::/32');
    assert.equal(parsePolicy({ Protocol: 'UDP', SecurityGroupId: 'sg-abcdefgh', Action: 'ACCEPT' }, 'P').sgRef, 'sg-abcdefgh');
    // Empty strings and empty template objects, as Describe answers them, count as absent.
    const echoed = { ...ok, Ipv6CidrBlock: '', SecurityGroupId: '', AddressTemplate: { AddressId: '', AddressGroupId: '' }, ServiceTemplate: { ServiceId: '', ServiceGroupId: '' } };
    assert.equal(parsePolicy(echoed, 'P').cidr, '10.0.0.0/8');
  });

  it('rejects bad policies with the documented codes', () => {
    const cases: [PolicyInput, string][] = [
      [{ ...ok, Protocol: 'SCTP' }, 'InvalidParameterValue'],
      [{ ...ok, Action: 'ALLOW' }, 'InvalidParameterValue'],
      [{ ...ok, Protocol: undefined }, 'MissingParameter'],
      [{ ...ok, Action: undefined }, 'MissingParameter'],
      [{ ...ok, CidrBlock: undefined }, 'MissingParameter'],
      [{ ...ok, Ipv6CidrBlock: '::/0' }, 'InvalidParameter.Coexist'],
      [{ ...ok, SecurityGroupId: 'sg-abcdefgh' }, 'InvalidParameter.Coexist'],
      [{ ...ok, AddressTemplate: { AddressId: 'ipm-12345678' } }, 'InvalidParameter.Coexist'],
      [{ ...ok, CidrBlock: undefined, AddressTemplate: { AddressId: 'ipm-12345678' } }, 'UnsupportedOperation'],
      [{ ...ok, ServiceTemplate: { ServiceId: 'ppm-12345678' } }, 'InvalidParameter.Coexist'],
      [{ ...ok, Protocol: undefined, Port: undefined, ServiceTemplate: { ServiceId: 'ppm-12345678' } }, 'UnsupportedOperation'],
      [{ ...ok, Protocol: 'ICMP', Port: '22' }, 'InvalidParameter.Coexist'],
      [{ ...ok, Protocol: 'ALL', Port: '1-100' }, 'InvalidParameter.Coexist'],
      [{ ...ok, Protocol: 'ICMP', CidrBlock: undefined, Ipv6CidrBlock: '::/0' }, 'InvalidParameter.Coexist'],
      [{ ...ok, Protocol: 'ICMPV6', Port: undefined }, 'InvalidParameterValue'],
      [{ ...ok, CidrBlock: '10.0.0.1/8' }, 'InvalidParameterValue.Malformed'],
      [{ ...ok, CidrBlock: '10.0.0.0/33' }, 'InvalidParameterValue.Malformed'],
      [{ ...ok, CidrBlock: '::/0' }, 'InvalidParameterValue.Malformed'],
      [{ ...ok, CidrBlock: 'MY_PUBLIC_IP' }, 'UnsupportedOperation'],
      [{ ...ok, CidrBlock: undefined, Ipv6CidrBlock: '10.0.0.0/8' }, 'InvalidParameterValue.Malformed'],
      [{ ...ok, CidrBlock: undefined, Ipv6CidrBlock: '::/129' }, 'InvalidParameterValue.Malformed'],
      [{ ...ok, CidrBlock: undefined, SecurityGroupId: 'sg-XYZ' }, 'InvalidParameterValue.Malformed'],
      [{ ...ok, Port: '0' }, 'InvalidParameterValue.Range'],
      [{ ...ok, PolicyDescription: 'x'.repeat(101) }, 'InvalidParameterValue.TooLong'],
    ];
    for (const [input, code] of cases) assert.equal(codeOf(() => parsePolicy(input, 'P')), code, JSON.stringify(input));
    assert.equal(parsePolicy({ ...ok, PolicyDescription: '规'.repeat(100) }, 'P').description.length, 100, 'the limit counts characters, not bytes');
  });

  it('either accepts an input canonically (parsing its output again changes nothing) or fails with a PolicyError', () => {
    const field = (xs: string[]) => fc.option(fc.oneof(fc.constantFrom(...xs), fc.string({ maxLength: 8 })), { nil: undefined });
    const input = fc.record(
      {
        Protocol: field(['tcp', 'UDP', 'icmp', 'ICMPv6', 'all']),
        Port: field(['22', 'ALL', '80,443', '8000-8010', '0', '70000']),
        CidrBlock: field(['10.0.0.0/8', '1.2.3.4', '0.0.0.0/3', '10.0.0.1/8']),
        Ipv6CidrBlock: field(['::/0', '2001:db8::1']),
        SecurityGroupId: field(['sg-abcdefgh']),
        Action: field(['accept', 'DROP']),
        PolicyDescription: fc.option(fc.string({ maxLength: 120 }), { nil: undefined }),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(input, (p) => {
        let out: Policy;
        try {
          out = parsePolicy(p, 'P');
        } catch (e) {
          assert.ok(e instanceof PolicyError, String(e));
          return;
        }
        const again = parsePolicy(
          { Protocol: out.protocol, Port: out.port, CidrBlock: out.cidr, Ipv6CidrBlock: out.ipv6Cidr, SecurityGroupId: out.sgRef, Action: out.action, PolicyDescription: out.description },
          'P',
        );
        assert.deepEqual(again, out);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('policy identity and list checks', () => {
  const base: Policy = { protocol: 'TCP', port: '80,443', cidr: '10.0.0.0/8', ipv6Cidr: '', sgRef: '', action: 'ACCEPT', description: 'a' };

  it('two policies are the same rule regardless of description and port-list order', () => {
    assert.equal(contentKey(base), contentKey({ ...base, description: 'b', port: '443,80' }));
    assert.notEqual(contentKey(base), contentKey({ ...base, action: 'DROP' }));
    assert.notEqual(contentKey(base), contentKey({ ...base, port: '80' }));
  });

  it('finds a duplicate exactly when a list holds one rule twice', () => {
    fc.assert(
      fc.property(policies(), fc.nat(), fc.nat(), (list, i, j) => {
        assert.equal(findDuplicate(list), undefined);
        checkList(list, 'Ingress', 100);
        if (!list.length) return;
        const copy = { ...list[i % list.length]!, description: 'copy', from: 'Req.0' };
        const withDup = insertAt(list, [copy], j % (list.length + 1), 'Ingress');
        assert.ok(findDuplicate(withDup));
        assert.equal(codeOf(() => checkList(withDup, 'Ingress', 100)), 'UnsupportedOperation.DuplicatePolicy');
      }),
    );
  });

  it('enforces the per-direction quota', () => {
    fc.assert(
      fc.property(policies(), fc.nat(12), (list, limit) => {
        if (list.length > limit) assert.equal(codeOf(() => checkList(list, 'Egress', limit)), 'LimitExceeded.SecurityGroupPolicySet');
        else checkList(list, 'Egress', limit);
      }),
    );
  });

  it('the duplicate message names the request field, not the existing policy, as the offender', () => {
    const list: Entry[] = [base, { ...base, from: 'SecurityGroupPolicySet.Ingress.0' }];
    assert.throws(() => checkList(list, 'Ingress', 100), /SecurityGroupPolicySet\.Ingress\.0` repeats the existing Ingress policy at PolicyIndex 0/);
  });
});

describe('list edits', () => {
  it('insertAt puts the items, in order, at the index; absent appends, 0 prepends', () => {
    fc.assert(
      fc.property(fc.array(fc.integer()), fc.array(fc.integer(), { minLength: 1, maxLength: 4 }), fc.nat(), (list, items, k) => {
        const at = k % (list.length + 1);
        const out = insertAt(list, items, at, 'Ingress');
        assert.equal(out.length, list.length + items.length);
        assert.deepEqual(out.slice(at, at + items.length), items);
        assert.deepEqual([...out.slice(0, at), ...out.slice(at + items.length)], list);
        assert.deepEqual(insertAt(list, items, undefined, 'Ingress'), [...list, ...items]);
        assert.deepEqual(insertAt(list, items, 0, 'Ingress'), [...items, ...list]);
        assert.equal(codeOf(() => insertAt(list, items, list.length + 1, 'Ingress')), 'InvalidParameterValue.Range');
      }),
    );
  });

  it('all policies of a request share one PolicyIndex', () => {
    assert.equal(sharedIndex([{}, {}], 'S'), undefined);
    assert.equal(sharedIndex([{ PolicyIndex: 2 }, { PolicyIndex: 2 }], 'S'), 2);
    assert.equal(codeOf(() => sharedIndex([{ PolicyIndex: 2 }, { PolicyIndex: 3 }], 'S')), 'InvalidParameterValue');
    assert.equal(codeOf(() => sharedIndex([{ PolicyIndex: 0 }, {}], 'S')), 'InvalidParameterValue');
    assert.equal(codeOf(() => sharedIndex([{}, { PolicyIndex: 0 }], 'S')), 'InvalidParameterValue');
  });

  it('deleteAt removes exactly the given positions and keeps the order of the rest', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer(), { minLength: 1 }).chain((list) => fc.tuple(fc.constant(list), fc.uniqueArray(fc.nat(list.length - 1), { maxLength: list.length }))),
        ([list, idx]) => {
          const out = deleteAt(list, idx.map((index) => ({ index, path: 'P' })), 'Egress');
          assert.deepEqual(out, list.filter((_, i) => !idx.includes(i)));
        },
      ),
    );
    assert.equal(codeOf(() => deleteAt([1, 2], [{ index: 2, path: 'P' }], 'Egress')), 'ResourceNotFound');
    assert.equal(codeOf(() => deleteAt([1, 2], [{ index: 1, path: 'P' }, { index: 1, path: 'Q' }], 'Egress')), 'InvalidParameterValue.Duplicate');
  });

  it('deleting by content undoes an insert', () => {
    fc.assert(
      fc.property(policies(16), fc.nat(), fc.nat(), (all, split, at) => {
        const k = all.length ? split % all.length : 0;
        const [list, items] = [all.slice(k), all.slice(0, k).map((p, i) => ({ ...p, description: 'other', from: `R.${i}` }))];
        const inserted = insertAt<Entry>(list, items, at % (list.length + 1), 'Ingress');
        assert.deepEqual(deleteMatching(inserted, items, 'Ingress'), list);
      }),
    );
    const p: Policy = { protocol: 'UDP', port: '53', cidr: '1.1.1.1', ipv6Cidr: '', sgRef: '', action: 'ACCEPT', description: '' };
    assert.equal(codeOf(() => deleteMatching([p], [{ ...p, action: 'DROP', from: 'R.0' }], 'Ingress')), 'ResourceNotFound');
    assert.equal(codeOf(() => deleteMatching([p], [{ ...p, from: 'R.0' }, { ...p, from: 'R.1' }], 'Ingress')), 'InvalidParameterValue.Duplicate');
  });

  it('replaceAt changes only the given positions', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer(), { minLength: 1 }).chain((list) => fc.tuple(fc.constant(list), fc.uniqueArray(fc.nat(list.length - 1)))),
        ([list, idx]) => {
          const out = replaceAt(list, idx.map((index) => ({ index, path: 'P', item: -index - 1000 })), 'Ingress');
          out.forEach((x, i) => assert.equal(x, idx.includes(i) ? -i - 1000 : list[i]));
        },
      ),
    );
    assert.equal(codeOf(() => replaceAt([1], [{ index: 1, path: 'P', item: 2 }], 'Ingress')), 'ResourceNotFound');
  });

  it('moveTo puts each moved policy at its target and keeps the others in order', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer(), { minLength: 1, maxLength: 15 }).chain((list) =>
          fc.tuple(
            fc.constant(list),
            fc.shuffledSubarray([...list.keys()]).chain((from) => fc.tuple(fc.constant(from), fc.shuffledSubarray([...list.keys()], { minLength: from.length, maxLength: from.length }))),
          ),
        ),
        ([list, [from, to]]) => {
          const out = moveTo(list, from.map((f, i) => ({ from: f, to: to[i]!, path: 'P' })), 'Ingress');
          assert.deepEqual([...out].sort((a, b) => a - b), [...list].sort((a, b) => a - b), 'a permutation');
          from.forEach((f, i) => assert.equal(out[to[i]!], list[f]));
          const still = list.filter((_, i) => !from.includes(i));
          assert.deepEqual(out.filter((_, i) => !to.includes(i)), still);
        },
      ),
    );
    assert.deepEqual(moveTo(['a', 'b', 'c'], [{ from: 2, to: 0, path: 'P', replace: 'C' }], 'Ingress'), ['C', 'a', 'b']);
    assert.equal(codeOf(() => moveTo(['a'], [{ from: 0, to: 1, path: 'P' }], 'Ingress')), 'ResourceNotFound');
  });
});

describe('version', () => {
  it('absent skips the check; a different one is a mismatch', () => {
    fc.assert(
      fc.property(fc.nat(), fc.nat(), (cur, given) => {
        checkVersion(undefined, cur);
        if (cur === given) checkVersion(String(given), cur);
        else assert.equal(codeOf(() => checkVersion(String(given), cur)), 'UnsupportedOperation.VersionMismatch');
      }),
    );
    assert.equal(codeOf(() => checkVersion('v1', 1)), 'InvalidParameterValue.Malformed');
  });
});
