/**
 * exec.ts against the real kernel (root): namespaces created in one batch,
 * with a random prefix, removed in after().
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { CommandError, listNetns, netnsAdd, netnsAddAll, netnsDel } from '../../../src/dataplane/linux/exec.js';

const root = process.getuid?.() === 0;
const prefix = `wx${randomBytes(2).toString('hex')}`;

describe('netnsAddAll', { skip: root ? false : 'needs root' }, () => {
  after(async () => {
    for (const n of await listNetns()) if (n.startsWith(`${prefix}-`)) await netnsDel(n);
  });

  test('creates every namespace in one go, leaving one that exists as it is', async () => {
    await netnsAdd(`${prefix}-b`);
    const names = [`${prefix}-a`, `${prefix}-b`, `${prefix}-c`];
    await netnsAddAll(names);
    const now = (await listNetns()).filter((n) => n.startsWith(`${prefix}-`)).sort();
    assert.deepEqual(now, names);
  });

  test('fails on a namespace it cannot create, after creating the others', async () => {
    // A name with a slash is refused by ip itself ("Invalid netns name").
    await assert.rejects(netnsAddAll([`${prefix}-d`, `${prefix}-x/y`]), (e) => e instanceof CommandError);
    assert.ok((await listNetns()).includes(`${prefix}-d`));
  });
});
