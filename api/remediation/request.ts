// Turns a plan request into workflow input: the share or host path becomes a scope
// on the live index, user and group names become the host's numeric ids (as the
// ACLs store them), and a contradictory policy is refused with the field at fault.
import type { PoolClient } from 'pg';
import type { z } from 'zod';
import { findShare } from '../../db/queries/shares';
import { resolveScopeIndex } from '../../db/queries/remediation';
import { ACCESS_BITS, PolicyError, validatePolicy, type AclPolicy, type PolicyGrant, type PolicyPrincipal } from '../../lib/acl-policy';
import { escapeName } from '../../activities/index-names';
import type { RemediationScope } from '../../activities/remediation-plan';
import { badRequest, notFound } from '../problem';
import { PRINCIPAL_PATTERN, type planSchema } from './schema';

type PlanBody = z.infer<typeof planSchema.body>;

export interface ResolvedRequest { scope: RemediationScope; policy: AclPolicy; shareName?: string }

export async function resolvePlanRequest(client: PoolClient, body: PlanBody): Promise<ResolvedRequest> {
  const { share, host, pathPrefix } = body.scope;
  let shareId: number | undefined;
  let hostId = host;
  let shareName: string | undefined;
  if (share !== undefined) {
    const matches = await findShare(client, /^\d+$/.test(share) ? { id: Number(share), hostId: host } : { name: share, hostId: host });
    if (matches.length === 0) throw notFound(`no active share ${share}${host ? ` on ${host}` : ''}`);
    if (matches.length > 1) throw badRequest(`share name ${share} is ambiguous: name the host or use the share id`, [{ field: 'body.scope.share', reason: 'ambiguous' }]);
    ({ hostId, name: shareName } = matches[0]);
    shareId = Number(matches[0].id);
  }
  const scope: RemediationScope = {
    shareId, hostId: shareId === undefined ? hostId : undefined, pathPrefix: pathPrefix === undefined ? undefined : escapeName(Buffer.from(pathPrefix, 'utf8')),
    worldAccessibleOnly: body.scope.worldAccessibleOnly, type: body.scope.type,
  };
  const resolved = await resolveScopeIndex(client, scope);
  if (typeof resolved === 'string') throw notFound(resolved);
  if (body.scope.owner !== undefined) scope.ownerUid = await idOf(client, resolved.hostId, 'user', body.scope.owner, 'body.scope.owner');
  const policy = await resolvePolicy(client, resolved.hostId, body.policy);
  return { scope, policy, shareName };
}

async function resolvePolicy(client: PoolClient, hostId: string, policy: PlanBody['policy']): Promise<AclPolicy> {
  const principal = (text: string, field: string) => principalOf(client, hostId, text, field);
  const resolved: AclPolicy = {
    remove: await Promise.all(policy.remove.map((p, i) => principal(p, `body.policy.remove[${i}]`))),
    add: await Promise.all(policy.add.map(async (grant, i): Promise<PolicyGrant> => {
      const p = await principal(grant.principal, `body.policy.add[${i}].principal`);
      if (p.kind !== 'other' && p.id === '*') throw badRequest('a wildcard cannot be added', [{ field: `body.policy.add[${i}].principal`, reason: 'wildcard' }]);
      return { principal: p as PolicyGrant['principal'], perm: ACCESS_BITS[grant.access] };
    })),
    preserve: await Promise.all(policy.preserve.map((p, i) => principal(p, `body.policy.preserve[${i}]`))),
  };
  try {
    validatePolicy(resolved);
  } catch (error) {
    if (error instanceof PolicyError) throw badRequest(`policy: ${error.message}`, [{ field: 'body.policy', reason: error.message }]);
    throw error;
  }
  return resolved;
}

async function principalOf(client: PoolClient, hostId: string, text: string, field: string): Promise<PolicyPrincipal> {
  const match = PRINCIPAL_PATTERN.exec(text)!;
  if (match[1] === 'other') return { kind: 'other' };
  const kind = text.startsWith('u') ? 'user' : 'group';
  if (match[3] === '*') return { kind, id: '*' };
  return { kind, id: await idOf(client, hostId, kind, match[3], field) };
}

/** A numeric id as is, a name through the principals recorded when the host was indexed. */
async function idOf(client: PoolClient, hostId: string, kind: 'user' | 'group', name: string, field: string): Promise<number> {
  if (/^\d+$/.test(name)) {
    const id = Number(name);
    if (id >= 0xffffffff) throw badRequest(`${kind} id ${name} is out of range`, [{ field, reason: 'out of range' }]);
    return id;
  }
  const result = await client.query('SELECT id FROM index_principal WHERE host_id = $1 AND kind = $2 AND name = $3 ORDER BY id LIMIT 1', [hostId, kind, name]);
  if (result.rowCount === 0) throw badRequest(`no ${kind} ${name} on host ${hostId}`, [{ field, reason: `unknown ${kind}` }]);
  return Number(result.rows[0].id);
}
