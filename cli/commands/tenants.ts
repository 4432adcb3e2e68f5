// strata tenants … / strata tokens …: onboarding, key rotation, issuing and revoking tokens.
import { emit, numberOption, requiredOption, stringOption, type Command } from '../command';
import { keyValues } from '../format';
import { usageError } from '../errors';

const ROLES = ['viewer', 'operator', 'approver', 'admin', 'agent'];

interface Onboarded { tenantId: string; code: string; kmsRef: string; adminToken: { id: string; userName: string; token: string } }
interface Issued { id: string; userName: string; role: string; token: string; expiresAt: string | null }

export const tenantCommands: Command[] = [
  {
    group: 'tenants', action: 'create', usage: '<code> --name <name> [--admin-name <user>]', positionals: [1, 1],
    summary: 'onboard a tenant (install admin); prints its first admin token once',
    options: { name: { type: 'string' }, 'admin-name': { type: 'string' } },
    async run(context) {
      const adminName = stringOption(context.values, 'admin-name');
      const body = { code: context.positionals[0], name: requiredOption(context.values, 'name'), ...(adminName ? { admin: { name: adminName } } : {}) };
      const answer = await context.api.json<Onboarded>('POST', '/tenants', { body });
      emit(context, answer, () => keyValues([
        ['tenant', answer.code], ['tenant id', answer.tenantId], ['key', answer.kmsRef],
        ['admin user', answer.adminToken.userName], ['admin token id', answer.adminToken.id],
        ['admin token', `${answer.adminToken.token}   (shown once: store it now)`],
      ]));
    },
  },
  {
    group: 'tenants', action: 'rotate-key', usage: '<code>', positionals: [1, 1],
    summary: "rotate the tenant's transit key and rewrap its data key (admin)",
    async run(context) {
      const answer = await context.api.json<{ latestVersion: number; rewrapped: boolean }>('POST', `/tenants/${encodeURIComponent(context.positionals[0])}/rotate-key`);
      emit(context, answer, () => keyValues([['tenant', context.positionals[0]], ['key version', answer.latestVersion], ['data key rewrapped', answer.rewrapped]]));
    },
  },
  {
    group: 'tokens', action: 'issue', usage: '<tenant> --user <name> --role <role> [--label <text>] [--expires-days <n>]', positionals: [1, 1],
    summary: `issue a token for a user of the tenant (admin); roles: ${ROLES.join(', ')}`,
    options: { user: { type: 'string' }, role: { type: 'string' }, label: { type: 'string' }, 'expires-days': { type: 'string' } },
    async run(context) {
      const role = requiredOption(context.values, 'role');
      if (!ROLES.includes(role)) throw usageError(`--role must be one of ${ROLES.join(', ')}, not ${JSON.stringify(role)}`);
      const body = {
        userName: requiredOption(context.values, 'user'), role, label: stringOption(context.values, 'label'),
        expiresInDays: numberOption(context.values, 'expires-days', { min: 1 }),
      };
      const answer = await context.api.json<Issued>('POST', `/tenants/${encodeURIComponent(context.positionals[0])}/tokens`, { body });
      emit(context, answer, () => keyValues([
        ['token id', answer.id], ['user', answer.userName], ['role', answer.role], ['expires', answer.expiresAt ?? 'never'],
        ['token', `${answer.token}   (shown once: store it now)`],
      ]));
    },
  },
  {
    group: 'tokens', action: 'revoke', usage: '<token-id>', positionals: [1, 1],
    summary: 'revoke a token (admin of its tenant)',
    async run(context) {
      const answer = await context.api.json<{ id: string; revoked: boolean }>('DELETE', `/tokens/${encodeURIComponent(context.positionals[0])}`);
      emit(context, answer, () => `token ${answer.id} revoked`);
    },
  },
];
