/**
 * Schema migrations, in order. Written once with Kysely's schema builder so the
 * same definitions create the SQLite and the PostgreSQL schema. Append new
 * migrations; never edit one that has shipped.
 */
import { newId } from '../core/ids.js';
import { parseCidr } from '../core/cidr.js';
import { allocate } from '../core/ipam.js';
import { Kysely, Migrator, PostgresAdapter, sql, type Migration, type MigrationProvider } from 'kysely';

const initial: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('accounts')
      .addColumn('uin', 'text', (c) => c.primaryKey())
      .addColumn('app_id', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull().unique())
      .addColumn('quotas', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('api_keys')
      .addColumn('secret_id', 'text', (c) => c.primaryKey())
      .addColumn('uin', 'text', (c) => c.notNull().references('accounts.uin'))
      .addColumn('secret_key_enc', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('meta')
      .addColumn('id', 'integer', (c) => c.primaryKey())
      .addColumn('revision', 'bigint', (c) => c.notNull())
      .execute();
    await db.insertInto('meta').values({ id: 1, revision: 0 }).execute();
    await db.schema
      .createTable('changes')
      .addColumn('revision', 'bigint', (c) => c.notNull())
      .addColumn('account', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('resource_id', 'text', (c) => c.notNull())
      .addColumn('op', 'text', (c) => c.notNull())
      .addColumn('at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('changes_by_revision').on('changes').column('revision').execute();
    await db.schema
      .createTable('usage')
      .addColumn('account', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('count', 'integer', (c) => c.notNull())
      .addPrimaryKeyConstraint('usage_pk', ['account', 'kind'])
      .execute();
    await db.schema
      .createTable('idempotency')
      .addColumn('account', 'text', (c) => c.notNull())
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('token', 'text', (c) => c.notNull())
      .addColumn('params_hash', 'text', (c) => c.notNull())
      .addColumn('response', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('idempotency_pk', ['account', 'action', 'token'])
      .execute();
    await db.schema
      .createTable('tags')
      .addColumn('account', 'text', (c) => c.notNull())
      .addColumn('resource_id', 'text', (c) => c.notNull())
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('value', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('tags_pk', ['resource_id', 'key'])
      .execute();
    await db.schema.createIndex('tags_by_key').on('tags').columns(['account', 'key', 'value']).execute();
    await db.schema
      .createTable('tasks')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('account', 'text', (c) => c.notNull())
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('output', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('vpcs')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('account', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('cidr', 'text', (c) => c.notNull())
      .addColumn('is_default', 'integer', (c) => c.notNull())
      .addColumn('enable_multicast', 'integer', (c) => c.notNull())
      .addColumn('dns_servers', 'text', (c) => c.notNull())
      .addColumn('domain_name', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('vpcs_by_account').on('vpcs').columns(['account', 'created_at', 'id']).execute();
    await db.schema
      .createTable('subnets')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('account', 'text', (c) => c.notNull())
      .addColumn('vpc_id', 'text', (c) => c.notNull().references('vpcs.id'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('cidr', 'text', (c) => c.notNull())
      .addColumn('zone', 'text', (c) => c.notNull())
      .addColumn('is_default', 'integer', (c) => c.notNull())
      .addColumn('enable_broadcast', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('subnets_by_account').on('subnets').columns(['account', 'created_at', 'id']).execute();
    await db.schema.createIndex('subnets_by_vpc').on('subnets').column('vpc_id').execute();
    await db.schema
      .createTable('security_groups')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('account', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('description', 'text', (c) => c.notNull())
      .addColumn('project_id', 'text', (c) => c.notNull())
      .addColumn('is_default', 'integer', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('sgs_by_account').on('security_groups').columns(['account', 'created_at', 'id']).execute();
    await db.schema
      .createTable('sg_policies')
      .addColumn('sg_id', 'text', (c) => c.notNull().references('security_groups.id'))
      .addColumn('direction', 'text', (c) => c.notNull())
      .addColumn('position', 'integer', (c) => c.notNull())
      .addColumn('protocol', 'text', (c) => c.notNull())
      .addColumn('port', 'text', (c) => c.notNull())
      .addColumn('cidr', 'text', (c) => c.notNull())
      .addColumn('ipv6_cidr', 'text', (c) => c.notNull())
      .addColumn('ref_sg_id', 'text', (c) => c.notNull())
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('description', 'text', (c) => c.notNull())
      .addColumn('modified_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('sg_policies_pk', ['sg_id', 'direction', 'position'])
      .execute();
    await db.schema.createIndex('sg_policies_by_ref').on('sg_policies').column('ref_sg_id').execute();
    await db.schema
      .createTable('instances')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('account', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('zone', 'text', (c) => c.notNull())
      .addColumn('vpc_id', 'text', (c) => c.notNull().references('vpcs.id'))
      .addColumn('subnet_id', 'text', (c) => c.notNull().references('subnets.id'))
      .addColumn('private_ip', 'text', (c) => c.notNull())
      .addColumn('mac', 'text', (c) => c.notNull().unique())
      .addColumn('eni_id', 'text', (c) => c.notNull().unique())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('image_id', 'text', (c) => c.notNull())
      .addColumn('instance_type', 'text', (c) => c.notNull())
      .addColumn('cpu', 'integer', (c) => c.notNull())
      .addColumn('memory', 'integer', (c) => c.notNull())
      .addColumn('host_id', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('instances_by_account').on('instances').columns(['account', 'created_at', 'id']).execute();
    await db.schema.createIndex('instances_by_subnet').on('instances').column('subnet_id').execute();
    await db.schema.createIndex('instances_by_vpc').on('instances').column('vpc_id').execute();
    await db.schema
      .createTable('instance_sgs')
      .addColumn('instance_id', 'text', (c) => c.notNull().references('instances.id'))
      .addColumn('sg_id', 'text', (c) => c.notNull().references('security_groups.id'))
      .addColumn('position', 'integer', (c) => c.notNull())
      .addPrimaryKeyConstraint('instance_sgs_pk', ['instance_id', 'sg_id'])
      .execute();
    await db.schema.createIndex('instance_sgs_by_sg').on('instance_sgs').column('sg_id').execute();
    await db.schema
      .createTable('private_ips')
      .addColumn('subnet_id', 'text', (c) => c.notNull().references('subnets.id'))
      .addColumn('ip', 'text', (c) => c.notNull())
      .addColumn('vpc_id', 'text', (c) => c.notNull())
      .addColumn('account', 'text', (c) => c.notNull())
      .addColumn('owner_kind', 'text', (c) => c.notNull())
      .addColumn('owner_id', 'text', (c) => c.notNull())
      .addColumn('is_primary', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('private_ips_pk', ['subnet_id', 'ip'])
      .execute();
    await db.schema.createIndex('private_ips_by_vpc').on('private_ips').columns(['vpc_id', 'ip']).execute();
    await db.schema.createIndex('private_ips_by_owner').on('private_ips').column('owner_id').execute();
  },
};

/** Hosts of the data plane, VNIs of VPCs, and the revision an instance's placement was written at. */
const hosts: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('hosts')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('zone', 'text', (c) => c.notNull())
      .addColumn('underlay', 'text', (c) => c.notNull().unique())
      .addColumn('token_hash', 'text', (c) => c.notNull())
      .addColumn('applied_revision', 'bigint', (c) => c.notNull())
      .addColumn('reported_at', 'text')
      .addColumn('report', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.alterTable('vpcs').addColumn('vni', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    await db.schema.alterTable('meta').addColumn('next_vni', 'integer', (c) => c.notNull().defaultTo(100)).execute();
    await db.schema.alterTable('instances').addColumn('placed_revision', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
    await db.schema.createIndex('instances_by_host').on('instances').column('host_id').execute();
    // VPCs made before VNIs existed get one each.
    const old = await db.selectFrom('vpcs').select('id').where('vni', '=', 0).orderBy('created_at').execute();
    let next = 100;
    for (const v of old) await db.updateTable('vpcs').set({ vni: next++ }).where('id', '=', v.id).execute();
    await db.updateTable('meta').set({ next_vni: next }).execute();
    await db.schema.createIndex('vpcs_by_vni').on('vpcs').column('vni').execute();
  },
};

/**
 * What DescribeInstances reports beyond the network: a UUID, the charge type
 * and termination protection asked for, the latest operation, and the echo of
 * accepted-but-unenforced launch settings (disks, key IDs; never a password).
 */
const instanceDetails: Migration = {
  async up(db: Kysely<any>) {
    const add = (column: string, type: 'text' | 'integer', value: string | number) =>
      db.schema.alterTable('instances').addColumn(column, type, (c) => c.notNull().defaultTo(value)).execute();
    await add('uuid', 'text', '');
    await add('charge_type', 'text', 'POSTPAID_BY_HOUR');
    await add('disable_api_termination', 'integer', 0);
    await add('latest_operation', 'text', '');
    await add('latest_operation_state', 'text', '');
    await add('latest_operation_request_id', 'text', '');
    await add('spec', 'text', '{}');
  },
};

/**
 * Name filters (vpc-name, subnet-name, security-group-name, instance-name)
 * match a substring, case-insensitively: `lower(name) like '%…%'`, a scan
 * without help. On PostgreSQL a trigram index on `lower(name)` serves that
 * very expression for patterns of 3 characters or more. pg_trgm ships with
 * PostgreSQL (contrib); where it cannot be created the filters still work,
 * by scanning. SQLite has no index for such a LIKE: there they scan.
 */
const nameSearch: Migration = {
  async up(db: Kysely<any>) {
    if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
    // Migrations run in a transaction on PostgreSQL: a failed CREATE EXTENSION must not abort it.
    await sql`savepoint name_search`.execute(db);
    try {
      await sql`create extension if not exists pg_trgm`.execute(db);
    } catch (e) {
      await sql`rollback to savepoint name_search`.execute(db);
      console.error(`store: pg_trgm is not available (${(e as Error).message}); name filters will scan`);
      return;
    }
    for (const table of ['vpcs', 'subnets', 'security_groups', 'instances'])
      await sql`create index ${sql.id(`${table}_name_trgm`)} on ${sql.table(table)} using gin (lower(name) gin_trgm_ops)`.execute(db);
  },
};

/**
 * Route tables (every VPC has a main one with its LOCAL route; every subnet
 * is associated with one), network ACLs with their entries, and peering
 * connections. Existing VPCs get their main table here.
 */
const routing: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('route_tables')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('account', 'text', (c) => c.notNull())
      .addColumn('vpc_id', 'text', (c) => c.notNull().references('vpcs.id'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('is_main', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('route_tables_by_account').on('route_tables').columns(['account', 'created_at', 'id']).execute();
    await db.schema.createIndex('route_tables_by_vpc').on('route_tables').column('vpc_id').execute();
    await db.schema
      .createTable('routes')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('route_id', 'bigint', (c) => c.notNull().unique())
      .addColumn('route_table_id', 'text', (c) => c.notNull().references('route_tables.id'))
      .addColumn('destination', 'text', (c) => c.notNull())
      .addColumn('gateway_type', 'text', (c) => c.notNull())
      .addColumn('gateway_id', 'text', (c) => c.notNull())
      .addColumn('description', 'text', (c) => c.notNull())
      .addColumn('enabled', 'integer', (c) => c.notNull())
      .addColumn('route_type', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('routes_by_table').on('routes').columns(['route_table_id', 'route_id']).execute();
    await db.schema.createIndex('routes_by_gateway').on('routes').column('gateway_id').execute();
    await db.schema.alterTable('meta').addColumn('next_route_id', 'bigint', (c) => c.notNull().defaultTo(1)).execute();
    await db.schema.alterTable('subnets').addColumn('route_table_id', 'text', (c) => c.notNull().defaultTo('')).execute();
    await db.schema.alterTable('subnets').addColumn('network_acl_id', 'text', (c) => c.notNull().defaultTo('')).execute();
    await db.schema.createIndex('subnets_by_route_table').on('subnets').column('route_table_id').execute();
    await db.schema.createIndex('subnets_by_network_acl').on('subnets').column('network_acl_id').execute();
    await db.schema
      .createTable('network_acls')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('account', 'text', (c) => c.notNull())
      .addColumn('vpc_id', 'text', (c) => c.notNull().references('vpcs.id'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('network_acls_by_account').on('network_acls').columns(['account', 'created_at', 'id']).execute();
    await db.schema.createIndex('network_acls_by_vpc').on('network_acls').column('vpc_id').execute();
    await db.schema
      .createTable('acl_entries')
      .addColumn('acl_id', 'text', (c) => c.notNull().references('network_acls.id'))
      .addColumn('direction', 'text', (c) => c.notNull())
      .addColumn('position', 'integer', (c) => c.notNull())
      .addColumn('protocol', 'text', (c) => c.notNull())
      .addColumn('port', 'text', (c) => c.notNull())
      .addColumn('cidr', 'text', (c) => c.notNull())
      .addColumn('ipv6_cidr', 'text', (c) => c.notNull())
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('description', 'text', (c) => c.notNull())
      .addColumn('modified_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('acl_entries_pk', ['acl_id', 'direction', 'position'])
      .execute();
    await db.schema
      .createTable('peerings')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('account', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('vpc_id', 'text', (c) => c.notNull())
      .addColumn('peer_account', 'text', (c) => c.notNull())
      .addColumn('peer_vpc_id', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('bandwidth', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('peerings_by_account').on('peerings').columns(['account', 'created_at', 'id']).execute();
    await db.schema.createIndex('peerings_by_peer_account').on('peerings').columns(['peer_account', 'created_at', 'id']).execute();
    await db.schema.createIndex('peerings_by_vpc').on('peerings').column('vpc_id').execute();
    await db.schema.createIndex('peerings_by_peer_vpc').on('peerings').column('peer_vpc_id').execute();

    // Existing VPCs: a main table with the LOCAL route, associated with every subnet.
    const vpcs = await db.selectFrom('vpcs').select(['id', 'account', 'cidr', 'created_at']).orderBy('created_at').orderBy('id').execute();
    let routeId = 1;
    for (const v of vpcs) {
      const rtb = newId('rtb');
      await db.insertInto('route_tables').values({ id: rtb, account: v.account, vpc_id: v.id, name: 'default', is_main: 1, created_at: v.created_at }).execute();
      await db
        .insertInto('routes')
        .values({
          id: newId('rti'),
          route_id: routeId++,
          route_table_id: rtb,
          destination: v.cidr,
          gateway_type: 'LOCAL',
          gateway_id: 'Local',
          description: '',
          enabled: 1,
          route_type: 'NETD',
          created_at: v.created_at,
        })
        .execute();
      await db.updateTable('subnets').set({ route_table_id: rtb }).where('vpc_id', '=', v.id).execute();
    }
    await db.updateTable('meta').set({ next_route_id: routeId }).execute();
  },
};

/**
 * Elastic IPs. An address is unique in the region (it comes from the region's
 * public pools); an instance holds at most one, which the unique index on
 * instance_id enforces even against concurrent binds (NULLs, the unbound
 * addresses, do not collide on either engine).
 */
const addresses: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('addresses')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('account', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('ip', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('instance_id', 'text')
      .addColumn('network_interface_id', 'text')
      .addColumn('private_ip', 'text')
      .addColumn('direct_connection', 'integer', (c) => c.notNull())
      .addColumn('isp', 'text', (c) => c.notNull())
      .addColumn('charge_type', 'text', (c) => c.notNull())
      .addColumn('bandwidth', 'integer', (c) => c.notNull())
      .addColumn('prepaid', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('addresses_by_ip').on('addresses').column('ip').unique().execute();
    await db.schema.createIndex('addresses_by_instance').on('addresses').column('instance_id').unique().execute();
    await db.schema.createIndex('addresses_by_account').on('addresses').columns(['account', 'created_at', 'id']).execute();
  },
};

/**
 * NAT gateways. An EIP a gateway holds names it in nat_gateway_id (status
 * BIND, instance_id null: a gateway holds several, which the unique index on
 * instance_id would not allow). The gateway remembers the task that makes it
 * AVAILABLE, so a task failed by a controller restart fails its gateway.
 */
const natGateways: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('nat_gateways')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('account', 'text', (c) => c.notNull())
      .addColumn('vpc_id', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('bandwidth', 'integer', (c) => c.notNull())
      .addColumn('max_connections', 'integer', (c) => c.notNull())
      .addColumn('zone', 'text', (c) => c.notNull())
      .addColumn('subnet_id', 'text', (c) => c.notNull())
      .addColumn('task_id', 'text', (c) => c.notNull())
      .addColumn('deletion_protection', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('nat_gateways_by_account').on('nat_gateways').columns(['account', 'created_at', 'id']).execute();
    await db.schema.createIndex('nat_gateways_by_vpc').on('nat_gateways').column('vpc_id').execute();
    await db.schema.alterTable('addresses').addColumn('nat_gateway_id', 'text').execute();
    await db.schema.createIndex('addresses_by_nat_gateway').on('addresses').column('nat_gateway_id').execute();
  },
};

/**
 * SNAT and DNAT rules of NAT gateways. An SNAT rule's EIPs are a JSON array
 * of public addresses (among its gateway's); a DNAT rule has no ID of its own
 * (Tencent names one by its five fields), so those fields, with the gateway,
 * are its key, and a public address, port and protocol forward to one place
 * per gateway.
 */
const natRules: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('nat_snat_rules')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('nat_gateway_id', 'text', (c) => c.notNull().references('nat_gateways.id'))
      .addColumn('resource_type', 'text', (c) => c.notNull())
      .addColumn('resource_id', 'text', (c) => c.notNull())
      .addColumn('private_ip', 'text', (c) => c.notNull())
      .addColumn('public_ips', 'text', (c) => c.notNull())
      .addColumn('description', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('nat_snat_rules_by_resource').on('nat_snat_rules').columns(['nat_gateway_id', 'resource_id']).unique().execute();
    await db.schema
      .createTable('nat_dnat_rules')
      .addColumn('nat_gateway_id', 'text', (c) => c.notNull().references('nat_gateways.id'))
      .addColumn('protocol', 'text', (c) => c.notNull())
      .addColumn('public_ip', 'text', (c) => c.notNull())
      .addColumn('public_port', 'integer', (c) => c.notNull())
      .addColumn('private_ip', 'text', (c) => c.notNull())
      .addColumn('private_port', 'integer', (c) => c.notNull())
      .addColumn('description', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('nat_dnat_rules_pk', ['nat_gateway_id', 'protocol', 'public_ip', 'public_port'])
      .execute();
  },
};

/**
 * What a host is for: `host` (instances are placed on it) or `gateway` (it
 * carries the region's public traffic: EIPs, NAT; never an instance).
 */
const hostRoles: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('hosts').addColumn('role', 'text', (c) => c.notNull().defaultTo('host')).execute();
  },
};

/**
 * Per-IP flow control on NAT gateways (docs/public-network.md "Flow monitor
 * and QoS"). A gateway's flow monitor is on while it has a row in
 * gateway_flow_monitors; its QoS caps are one row per private address.
 * Gateway nodes report cumulative counters: the last one per node, gateway and
 * address is kept (gateway_flow_counters) so the next report becomes
 * per-minute deltas (gateway_flow_minutes, one row per node so that nodes
 * never write the same row; the API sums them). Counters are bigint: a
 * gateway's bytes pass 2^31 in seconds.
 */
const gatewayFlows: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('gateway_flow_monitors')
      .addColumn('gateway_id', 'text', (c) => c.primaryKey())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('gateway_flow_qos')
      .addColumn('gateway_id', 'text', (c) => c.notNull())
      .addColumn('private_ip', 'text', (c) => c.notNull())
      .addColumn('bandwidth', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('gateway_flow_qos_pk', ['gateway_id', 'private_ip'])
      .execute();
    await db.schema
      .createTable('gateway_flow_counters')
      .addColumn('host_id', 'text', (c) => c.notNull())
      .addColumn('gateway_id', 'text', (c) => c.notNull())
      .addColumn('private_ip', 'text', (c) => c.notNull())
      .addColumn('at', 'text', (c) => c.notNull())
      .addColumn('in_bytes', 'bigint', (c) => c.notNull())
      .addColumn('out_bytes', 'bigint', (c) => c.notNull())
      .addColumn('in_packets', 'bigint', (c) => c.notNull())
      .addColumn('out_packets', 'bigint', (c) => c.notNull())
      .addColumn('new_connections', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('gateway_flow_counters_pk', ['host_id', 'gateway_id', 'private_ip'])
      .execute();
    await db.schema.createIndex('gateway_flow_counters_by_gateway').on('gateway_flow_counters').column('gateway_id').execute();
    await db.schema
      .createTable('gateway_flow_minutes')
      .addColumn('gateway_id', 'text', (c) => c.notNull())
      .addColumn('minute', 'text', (c) => c.notNull())
      .addColumn('private_ip', 'text', (c) => c.notNull())
      .addColumn('host_id', 'text', (c) => c.notNull())
      .addColumn('in_bytes', 'bigint', (c) => c.notNull())
      .addColumn('out_bytes', 'bigint', (c) => c.notNull())
      .addColumn('in_packets', 'bigint', (c) => c.notNull())
      .addColumn('out_packets', 'bigint', (c) => c.notNull())
      .addColumn('connections', 'bigint', (c) => c.notNull())
      .addColumn('new_connections', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('gateway_flow_minutes_pk', ['gateway_id', 'minute', 'private_ip', 'host_id'])
      .execute();
    await db.schema.createIndex('gateway_flow_minutes_by_minute').on('gateway_flow_minutes').column('minute').execute();
  },
};

/** CLB: load balancers, listeners, targets and what the LB nodes' health checks say (docs/load-balancers.md). */
const loadBalancers: Migration = {
  async up(db) {
    await db.schema
      .createTable('load_balancers')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('account', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('vpc_id', 'text', (c) => c.notNull())
      .addColumn('subnet_id', 'text', (c) => c.notNull())
      .addColumn('vip', 'text', (c) => c.notNull())
      .addColumn('status', 'integer', (c) => c.notNull())
      .addColumn('bandwidth', 'integer')
      .addColumn('project_id', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('pass_to_target', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('delete_protect', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('task_id', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('load_balancers_by_account').on('load_balancers').columns(['account', 'id']).execute();
    await db.schema.createIndex('load_balancers_by_vpc').on('load_balancers').column('vpc_id').execute();
    // Public VIPs are unique in the region; internal ones are private_ips rows (unique per VPC there).
    await db.schema.createIndex('load_balancers_by_vip').on('load_balancers').column('vip').execute();
    await db.schema
      .createTable('lb_listeners')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('load_balancer_id', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('protocol', 'text', (c) => c.notNull())
      .addColumn('port', 'integer', (c) => c.notNull())
      .addColumn('scheduler', 'text', (c) => c.notNull())
      .addColumn('session_expire_time', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('health_check', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    // One listener per protocol and port of a load balancer.
    await db.schema.createIndex('lb_listeners_port').on('lb_listeners').columns(['load_balancer_id', 'protocol', 'port']).unique().execute();
    await db.schema
      .createTable('lb_targets')
      .addColumn('listener_id', 'text', (c) => c.notNull())
      .addColumn('load_balancer_id', 'text', (c) => c.notNull())
      .addColumn('instance_id', 'text', (c) => c.notNull())
      .addColumn('private_ip', 'text', (c) => c.notNull())
      .addColumn('port', 'integer', (c) => c.notNull())
      .addColumn('weight', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('lb_targets_pk', ['listener_id', 'private_ip', 'port'])
      .execute();
    await db.schema.createIndex('lb_targets_by_lb').on('lb_targets').column('load_balancer_id').execute();
    await db.schema.createIndex('lb_targets_by_instance').on('lb_targets').column('instance_id').execute();
    await db.schema
      .createTable('lb_target_health')
      .addColumn('listener_id', 'text', (c) => c.notNull())
      .addColumn('private_ip', 'text', (c) => c.notNull())
      .addColumn('port', 'integer', (c) => c.notNull())
      .addColumn('host_id', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('changed_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('lb_target_health_pk', ['listener_id', 'private_ip', 'port', 'host_id'])
      .execute();
  },
};

/**
 * The task now running on a load balancer (CreateListener, RegisterTargets …: the RequestId), beside task_id, which
 * stays CreateLoadBalancer's (DescribeTaskStatus answers its LoadBalancerIds). While that task runs, Tencent refuses
 * other changes of the load balancer (FailedOperation.ResourceInOperating).
 */
const lbOperations: Migration = {
  async up(db) {
    await db.schema.alterTable('load_balancers').addColumn('operation_id', 'text', (c) => c.notNull().defaultTo('')).execute();
  },
};

/**
 * Reconciliation (docs/reconcile.md): per host, the digest of the document its agent applied, its last full audit and
 * how much drift audits found and repaired; and the drift itself, one row per change an audit made (bounded retention:
 * controller/agent-reports.ts).
 */
const reconciliation: Migration = {
  async up(db) {
    await db.schema.alterTable('hosts').addColumn('applied_digest', 'text').execute();
    await db.schema.alterTable('hosts').addColumn('last_audit', 'text').execute();
    await db.schema.alterTable('hosts').addColumn('drift_found', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
    await db.schema.alterTable('hosts').addColumn('drift_repairs', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
    await db.schema
      .createTable('drift_events')
      .addColumn('host_id', 'text', (c) => c.notNull())
      .addColumn('at', 'text', (c) => c.notNull())
      .addColumn('received_at', 'text', (c) => c.notNull())
      .addColumn('revision', 'bigint', (c) => c.notNull())
      .addColumn('vpc_id', 'text', (c) => c.notNull())
      .addColumn('ns', 'text')
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('what', 'text', (c) => c.notNull())
      .addColumn('repaired', 'integer', (c) => c.notNull())
      .addColumn('error', 'text')
      .execute();
    await db.schema.createIndex('drift_events_by_host').on('drift_events').columns(['host_id', 'at']).execute();
    await db.schema.createIndex('drift_events_by_time').on('drift_events').column('received_at').execute();
  },
};

/**
 * Network detection (NetDetect, docs/operations.md): the detections, the latest probe figures agents report per
 * detection, destination and probing host, and the latest underlay figures per host pair (one row per pair: bounded).
 */
const netDetect: Migration = {
  async up(db) {
    await db.schema
      .createTable('net_detects')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('account', 'text', (c) => c.notNull())
      .addColumn('vpc_id', 'text', (c) => c.notNull())
      .addColumn('subnet_id', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('description', 'text', (c) => c.notNull())
      .addColumn('destinations', 'text', (c) => c.notNull())
      .addColumn('next_hop_type', 'text', (c) => c.notNull())
      .addColumn('next_hop_destination', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('net_detects_by_vpc').on('net_detects').column('vpc_id').execute();
    await db.schema.createIndex('net_detects_by_account').on('net_detects').column('account').execute();
    await db.schema
      .createTable('net_detect_results')
      .addColumn('net_detect_id', 'text', (c) => c.notNull())
      .addColumn('ip', 'text', (c) => c.notNull())
      .addColumn('host_id', 'text', (c) => c.notNull())
      .addColumn('sent', 'integer', (c) => c.notNull())
      .addColumn('received', 'integer', (c) => c.notNull())
      .addColumn('rtt_ms', 'double precision')
      .addColumn('at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('net_detect_results_pk', ['net_detect_id', 'ip', 'host_id'])
      .execute();
    await db.schema
      .createTable('underlay_links')
      .addColumn('from_host', 'text', (c) => c.notNull())
      .addColumn('to_host', 'text', (c) => c.notNull())
      .addColumn('sent', 'integer', (c) => c.notNull())
      .addColumn('received', 'integer', (c) => c.notNull())
      .addColumn('rtt_ms', 'double precision')
      .addColumn('at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('underlay_links_pk', ['from_host', 'to_host'])
      .execute();
  },
};

const requestIds: Migration = {
  async up(db) {
    await db.schema.alterTable('changes').addColumn('request_id', 'text', (c) => c.notNull().defaultTo('')).execute();
  },
};

/**
 * 0014: per-instance and per-EIP traffic in 10 s buckets
 * (controller/instance-counters.ts), what GetMonitorData answers from; kept
 * for MONITOR_RETENTION_S. `resource_id`: an instance ID or an EIP's address ID.
 */
const monitor: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('monitor_samples')
      .addColumn('resource_id', 'text', (c) => c.notNull())
      .addColumn('at', 'bigint', (c) => c.notNull()) // bucket start, Unix seconds
      .addColumn('in_bytes', 'bigint', (c) => c.notNull())
      .addColumn('out_bytes', 'bigint', (c) => c.notNull())
      .addColumn('in_packets', 'bigint', (c) => c.notNull())
      .addColumn('out_packets', 'bigint', (c) => c.notNull())
      .addColumn('sg_drop_packets', 'bigint', (c) => c.notNull())
      .addColumn('acl_drop_packets', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('monitor_samples_pk', ['resource_id', 'at'])
      .execute();
    await db.schema.createIndex('monitor_samples_by_at').on('monitor_samples').column('at').execute();
  },
};

/**
 * Flow logs (docs/operations.md "Flow logs"): the logs users create (desired state: which ports' traffic the hosts
 * capture) and the records the hosts report, one per direction of a 5-tuple per capture window, kept for a
 * bounded time (controller/flow-log-records.ts prunes them).
 */
const flowLogs: Migration = {
  async up(db) {
    await db.schema
      .createTable('flow_logs')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('account', 'text', (c) => c.notNull())
      .addColumn('vpc_id', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('description', 'text', (c) => c.notNull())
      .addColumn('resource_type', 'text', (c) => c.notNull())
      .addColumn('resource_id', 'text', (c) => c.notNull())
      .addColumn('traffic_type', 'text', (c) => c.notNull())
      .addColumn('cloud_log_id', 'text', (c) => c.notNull())
      .addColumn('cloud_log_region', 'text', (c) => c.notNull())
      .addColumn('storage_type', 'text', (c) => c.notNull())
      .addColumn('enabled', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('flow_logs_by_vpc').on('flow_logs').column('vpc_id').execute();
    await db.schema.createIndex('flow_logs_by_account').on('flow_logs').columns(['account', 'created_at']).execute();
    await db.schema
      .createTable('flow_log_records')
      .addColumn('flow_log_id', 'text', (c) => c.notNull())
      .addColumn('host_id', 'text', (c) => c.notNull())
      .addColumn('account_id', 'text', (c) => c.notNull())
      .addColumn('interface_id', 'text', (c) => c.notNull())
      .addColumn('srcaddr', 'text', (c) => c.notNull())
      .addColumn('dstaddr', 'text', (c) => c.notNull())
      .addColumn('srcport', 'integer', (c) => c.notNull())
      .addColumn('dstport', 'integer', (c) => c.notNull())
      .addColumn('protocol', 'integer', (c) => c.notNull())
      .addColumn('packets', 'bigint', (c) => c.notNull())
      .addColumn('bytes', 'bigint', (c) => c.notNull())
      .addColumn('start', 'bigint', (c) => c.notNull())
      .addColumn('end', 'bigint', (c) => c.notNull())
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('log_status', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('flow_log_records_by_log').on('flow_log_records').columns(['flow_log_id', 'end']).execute();
    await db.schema.createIndex('flow_log_records_by_end').on('flow_log_records').column('end').execute();
  },
};

/**
 * Network detections hold two addresses of their subnet (DetectSourceIp), the probes' sources
 * (docs/operations.md, "NetDetect"): rows in private_ips like every address in use. Detections made before get theirs here;
 * one whose subnet is full keeps none and probes from nowhere until it is made again.
 */
const netDetectSources: Migration = {
  async up(db) {
    const detections = await db.selectFrom('net_detects').innerJoin('subnets', 'subnets.id', 'net_detects.subnet_id').select(['net_detects.id', 'net_detects.created_at', 'subnets.id as subnet_id', 'subnets.cidr', 'subnets.vpc_id', 'subnets.account']).orderBy('net_detects.id').execute();
    for (const d of detections) {
      const taken = new Set((await db.selectFrom('private_ips').select('ip').where('subnet_id', '=', d.subnet_id).execute()).map((r: { ip: string }) => r.ip));
      const ips = allocate(parseCidr(d.cidr)!, taken, 2);
      if (ips.length < 2) continue;
      await db
        .insertInto('private_ips')
        .values(ips.map((ip) => ({ subnet_id: d.subnet_id, ip, vpc_id: d.vpc_id, account: d.account, owner_kind: 'net_detect', owner_id: d.id, is_primary: 1, created_at: d.created_at })))
        .execute();
    }
  },
};

/**
 * Controller replicas sharing one store (controller/replicas.ts): each holds a
 * lease it renews; a task belongs to the replica running it and says what its
 * work is, so another replica resumes it when the owner's lease runs out; the
 * API's per-account request budget is one bucket for the region
 * (controller/region-rate-limit.ts). Times are the store's clock in ms, so
 * replicas on machines whose clocks differ agree on them.
 */
const replicas: Migration = {
  async up(db) {
    await db.schema
      .createTable('controllers')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('endpoint', 'text', (c) => c.notNull())
      .addColumn('agent_endpoint', 'text')
      .addColumn('pid', 'integer', (c) => c.notNull())
      .addColumn('started_at', 'text', (c) => c.notNull())
      .addColumn('lease_until', 'double precision', (c) => c.notNull())
      .execute();
    await db.schema.alterTable('tasks').addColumn('owner', 'text').execute();
    await db.schema.alterTable('tasks').addColumn('work', 'text').execute();
    await db.schema
      .createTable('rate_buckets')
      .addColumn('account', 'text', (c) => c.primaryKey())
      .addColumn('tokens', 'double precision', (c) => c.notNull())
      .addColumn('at', 'double precision', (c) => c.notNull())
      .execute();
  },
};

/**
 * Name filters on SQLite: an FTS5 table with the trigram tokenizer per table
 * whose names are searched (SQLite's answer to PostgreSQL's pg_trgm, above),
 * kept by triggers. A substring pattern of 3 characters or more is then found
 * through the index (api/common.ts nameContains) instead of a scan of every
 * row. External content: the index holds trigrams, the table the names, tied
 * by rowid — a VACUUM (which may renumber rowids) must be followed by
 * `insert into <t>_name_fts(<t>_name_fts) values('rebuild')`.
 */
export const NAME_SEARCH_TABLES = ['vpcs', 'subnets', 'security_groups', 'instances'] as const;
const nameSearchSqlite: Migration = {
  async up(db: Kysely<any>) {
    if (db.getExecutor().adapter instanceof PostgresAdapter) return;
    for (const t of NAME_SEARCH_TABLES) {
      const fts = `${t}_name_fts`;
      await sql.raw(`create virtual table ${fts} using fts5(name, content='${t}', content_rowid='rowid', tokenize='trigram')`).execute(db);
      await sql.raw(`create trigger ${fts}_insert after insert on ${t} begin insert into ${fts}(rowid, name) values (new.rowid, new.name); end`).execute(db);
      await sql.raw(`create trigger ${fts}_delete after delete on ${t} begin insert into ${fts}(${fts}, rowid, name) values ('delete', old.rowid, old.name); end`).execute(db);
      await sql
        .raw(`create trigger ${fts}_update after update of name on ${t} begin insert into ${fts}(${fts}, rowid, name) values ('delete', old.rowid, old.name); insert into ${fts}(rowid, name) values (new.rowid, new.name); end`)
        .execute(db);
      await sql.raw(`insert into ${fts}(${fts}) values ('rebuild')`).execute(db);
    }
  },
};

const migrations: Record<string, Migration> = {
  '0001-initial': initial,
  '0002-hosts': hosts,
  '0003-instance-details': instanceDetails,
  '0004-name-search': nameSearch,
  '0005-routing': routing,
  '0006-addresses': addresses,
  '0007-nat-gateways': natGateways,
  '0008-nat-rules': natRules,
  '0009-host-roles': hostRoles,
  '0010-gateway-flows': gatewayFlows,
  '0011-load-balancers': loadBalancers,
  '0012-lb-operations': lbOperations,
  '0013-reconciliation': reconciliation,
  '0014-monitor': monitor,
  '0015-flow-logs': flowLogs,
  '0016-net-detect': netDetect,
  '0017-request-ids': requestIds,
  '0018-net-detect-sources': netDetectSources,
  '0019-replicas': replicas,
  '0020-name-search-sqlite': nameSearchSqlite,
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

export async function migrate(db: Kysely<any>): Promise<void> {
  const { error, results } = await new Migrator({ db, provider }).migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) throw new Error(`migration ${failed?.migrationName ?? ''} failed: ${String(error)}`);
}
