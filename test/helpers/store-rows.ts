/**
 * Rows as the API actions write them, each with its change-log entry: for
 * tests of distribution that need documents to change without going through
 * the API (document caches, replicas, agent failover).
 */
import type { Write } from '../../src/store/store.js';

export const ACCOUNT = '100000000001';

let macs = 1;

export const rows = {
  async vpc(w: Write, id: string, vni: number) {
    await w.tx
      .insertInto('vpcs')
      .values({ id, account: ACCOUNT, name: id, cidr: '10.0.0.0/16', is_default: 0, enable_multicast: 0, dns_servers: '[]', domain_name: '', created_at: w.now, vni })
      .execute();
    w.changed(ACCOUNT, 'vpc', id, 'create');
  },
  async subnet(w: Write, id: string, vpc: string, cidr: string) {
    await w.tx.insertInto('subnets').values({ id, account: ACCOUNT, vpc_id: vpc, name: id, cidr, zone: 'local-1', is_default: 0, enable_broadcast: 0, created_at: w.now, route_table_id: '', network_acl_id: '' }).execute();
    w.changed(ACCOUNT, 'subnet', id, 'create');
  },
  async group(w: Write, id: string) {
    await w.tx
      .insertInto('security_groups')
      .values({ id, account: ACCOUNT, name: id, description: '', project_id: '0', is_default: 0, version: 0, created_at: w.now, updated_at: w.now })
      .execute();
    w.changed(ACCOUNT, 'security_group', id, 'create');
  },
  /** Replaces a group's ingress list with one policy. */
  async policy(w: Write, sg: string, p: { port: string; ref?: string; action?: string }) {
    await w.tx.deleteFrom('sg_policies').where('sg_id', '=', sg).where('direction', '=', 'ingress').execute();
    await w.tx
      .insertInto('sg_policies')
      .values({ sg_id: sg, direction: 'ingress', position: 0, protocol: 'TCP', port: p.port, cidr: p.ref ? '' : '0.0.0.0/0', ipv6_cidr: '', ref_sg_id: p.ref ?? '', action: p.action ?? 'ACCEPT', description: '', modified_at: w.now })
      .execute();
    w.changed(ACCOUNT, 'security_group', sg, 'update');
  },
  async instance(w: Write, id: string, vpc: string, subnet: string, ip: string, host: string | null, groups: string[]) {
    const n = (macs++).toString(16).padStart(4, '0');
    await w.tx
      .insertInto('instances')
      .values({
        id, account: ACCOUNT, name: id, zone: 'local-1', vpc_id: vpc, subnet_id: subnet, private_ip: ip, mac: `52:54:00:00:${n.slice(0, 2)}:${n.slice(2)}`,
        eni_id: `eni-${id}`, state: 'RUNNING', image_id: 'img', instance_type: 'S5.SMALL1', cpu: 1, memory: 1, host_id: host, created_at: w.now,
      })
      .execute();
    if (groups.length) await w.tx.insertInto('instance_sgs').values(groups.map((sg, position) => ({ instance_id: id, sg_id: sg, position }))).execute();
    w.changed(ACCOUNT, 'instance', id, 'create');
  },
  async place(w: Write, id: string, host: string | null) {
    await w.tx.updateTable('instances').set({ host_id: host }).where('id', '=', id).execute();
    w.changed(ACCOUNT, 'instance', id, 'update');
  },
  async bind(w: Write, id: string, sg: string) {
    const top = await w.tx.selectFrom('instance_sgs').select('position').where('instance_id', '=', id).orderBy('position', 'desc').executeTakeFirst();
    await w.tx.insertInto('instance_sgs').values({ instance_id: id, sg_id: sg, position: (top?.position ?? -1) + 1 }).execute();
    w.changed(ACCOUNT, 'instance', id, 'update');
  },
  async unbind(w: Write, id: string, sg: string) {
    await w.tx.deleteFrom('instance_sgs').where('instance_id', '=', id).where('sg_id', '=', sg).execute();
    w.changed(ACCOUNT, 'instance', id, 'update');
  },
  async terminate(w: Write, id: string) {
    await w.tx.deleteFrom('instance_sgs').where('instance_id', '=', id).execute();
    await w.tx.deleteFrom('instances').where('id', '=', id).execute();
    w.changed(ACCOUNT, 'instance', id, 'delete');
  },
};

