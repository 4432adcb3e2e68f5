// The remediation policy applied to one POSIX ACL in memory: remove principals, add
// principals with r/rw/rwx, never touch preserved ones, recompute the mask (as setfacl
// does) and keep the kernel's entry order. The planner runs it once per descriptor.
import { READ, WRITE, EXECUTE, sortAcl, type AclEntry } from './posix-acl';

/** A user or group by numeric id (`'*'`: every named one), or `other`, the world. */
export type PolicyPrincipal = { kind: 'user' | 'group'; id: number | '*' } | { kind: 'other' };
export interface PolicyGrant { principal: { kind: 'user' | 'group'; id: number } | { kind: 'other' }; perm: number }

export interface AclPolicy {
  remove: PolicyPrincipal[];
  add: PolicyGrant[];
  preserve: PolicyPrincipal[];
}

export const ACCESS_BITS: Record<'r' | 'rw' | 'rwx' | 'rx', number> = { r: READ, rw: READ | WRITE, rwx: READ | WRITE | EXECUTE, rx: READ | EXECUTE };

export class PolicyError extends Error {
  constructor(message: string) { super(message); this.name = 'PolicyError'; }
}

function matches(principal: PolicyPrincipal, entry: AclEntry): boolean {
  if (principal.kind === 'other') return entry.tag === 'other';
  if (entry.tag !== principal.kind) return false;
  return principal.id === '*' || principal.id === entry.id;
}

function samePrincipal(a: PolicyPrincipal, b: PolicyPrincipal): boolean {
  if (a.kind === 'other' || b.kind === 'other') return a.kind === b.kind;
  return a.kind === b.kind && (a.id === b.id || a.id === '*' || b.id === '*');
}

export function principalText(principal: PolicyPrincipal): string {
  return principal.kind === 'other' ? 'other' : `${principal.kind}:${principal.id}`;
}

/** Contradictions a policy may not contain: adding what it removes or preserves, or nothing to do. */
export function validatePolicy(policy: AclPolicy): void {
  if (policy.remove.length === 0 && policy.add.length === 0) throw new PolicyError('the policy neither removes nor adds any principal');
  for (const grant of policy.add) {
    const p = grant.principal;
    if (!Number.isInteger(grant.perm) || grant.perm < 0 || grant.perm > 7) throw new PolicyError(`permission bits ${grant.perm} for ${principalText(p)}`);
    if (policy.remove.some((r) => samePrincipal(r, p) && !(r.kind !== 'other' && r.id === '*'))) {
      throw new PolicyError(`${principalText(p)} is both added and removed`);
    }
    if (policy.preserve.some((r) => samePrincipal(r, p))) throw new PolicyError(`${principalText(p)} is both added and preserved`);
    if (policy.add.filter((g) => samePrincipal(g.principal, p)).length > 1) throw new PolicyError(`${principalText(p)} is added twice`);
  }
  for (const removed of policy.remove) {
    const clash = policy.preserve.find((p) => removed.kind === p.kind && (removed.kind === 'other' || (p.kind !== 'other' && p.id === removed.id)));
    if (clash) throw new PolicyError(`${principalText(removed)} is both removed and preserved`);
  }
}

/**
 * The ACL after the policy, or the same array (===) when nothing changes. Removing
 * `other` clears its bits (the entry itself is mandatory); owner entries are never
 * touched. When anything changed the mask becomes the union of the group class and
 * is dropped when no named entry remains.
 */
export function transformAcl(entries: readonly AclEntry[], policy: AclPolicy): readonly AclEntry[] {
  const preserved = (entry: AclEntry) => policy.preserve.some((p) => matches(p, entry));
  let changed = false;
  const next: AclEntry[] = [];
  for (const entry of entries) {
    if (preserved(entry) || !policy.remove.some((p) => matches(p, entry))) { next.push({ ...entry }); continue; }
    if (entry.tag === 'other') {
      if (entry.perm !== 0) changed = true;
      next.push({ ...entry, perm: 0 });
    } else if (entry.tag === 'user' || entry.tag === 'group') {
      changed = true;
    } else next.push({ ...entry });
  }
  for (const grant of policy.add) {
    const p = grant.principal;
    const index = next.findIndex((entry) => matches(p, entry));
    if (index >= 0 && preserved(next[index])) continue;
    if (index >= 0) {
      if (next[index].perm !== grant.perm) { next[index] = { ...next[index], perm: grant.perm }; changed = true; }
    } else if (p.kind !== 'other') {
      next.push({ tag: p.kind, id: p.id, perm: grant.perm });
      changed = true;
    }
  }
  if (!changed) return entries;
  return sortAcl(withRecomputedMask(next));
}

function withRecomputedMask(entries: AclEntry[]): AclEntry[] {
  const rest = entries.filter((entry) => entry.tag !== 'mask');
  const named = rest.some((entry) => entry.tag === 'user' || entry.tag === 'group');
  if (!named) return rest;
  const union = rest.filter((e) => e.tag === 'user' || e.tag === 'group' || e.tag === 'group_obj').reduce((bits, e) => bits | e.perm, 0);
  return [...rest, { tag: 'mask', id: null, perm: union }];
}

/** The permission bits of the mode an access ACL gives a file (group bits are the mask when there is one). */
export function modeBitsOf(entries: readonly AclEntry[]): number {
  const perm = (tag: AclEntry['tag']) => entries.find((entry) => entry.tag === tag)?.perm ?? 0;
  const group = entries.some((entry) => entry.tag === 'mask') ? perm('mask') : perm('group_obj');
  return (perm('user_obj') << 6) | (group << 3) | perm('other');
}

/** True when the ACL is just the mode (no named entries, no mask): the kernel stores no xattr for it. */
export function isMinimalAcl(entries: readonly AclEntry[]): boolean {
  return entries.every((entry) => entry.tag === 'user_obj' || entry.tag === 'group_obj' || entry.tag === 'other');
}
