// The host's user and group databases (/etc/passwd, /etc/group; paths configurable)
// so ACL ids become names and a user's group memberships are known.
import { readFileSync } from 'node:fs';

export interface PosixUser { uid: number; name: string; gid: number }
export interface PosixGroup { gid: number; name: string; members: string[] }

export interface PrincipalPaths { passwdPath?: string; groupPath?: string }

export class PrincipalDirectory {
  private readonly usersById = new Map<number, PosixUser>();
  private readonly groupsById = new Map<number, PosixGroup>();
  private readonly usersByName = new Map<string, PosixUser>();
  private readonly groupsByName = new Map<string, PosixGroup>();

  constructor(readonly users: PosixUser[], readonly groups: PosixGroup[]) {
    // The first entry wins, as getpwuid/getgrgid do.
    for (const user of users) {
      if (!this.usersById.has(user.uid)) this.usersById.set(user.uid, user);
      if (!this.usersByName.has(user.name)) this.usersByName.set(user.name, user);
    }
    for (const group of groups) {
      if (!this.groupsById.has(group.gid)) this.groupsById.set(group.gid, group);
      if (!this.groupsByName.has(group.name)) this.groupsByName.set(group.name, group);
    }
  }

  static load(paths: PrincipalPaths = {}): PrincipalDirectory {
    return new PrincipalDirectory(
      parsePasswd(readOptional(paths.passwdPath ?? '/etc/passwd')),
      parseGroup(readOptional(paths.groupPath ?? '/etc/group')));
  }

  userName(uid: number): string | undefined { return this.usersById.get(uid)?.name; }
  groupName(gid: number): string | undefined { return this.groupsById.get(gid)?.name; }
  userByName(name: string): PosixUser | undefined { return this.usersByName.get(name); }
  groupByName(name: string): PosixGroup | undefined { return this.groupsByName.get(name); }

  nameOf = (tag: 'user' | 'group', id: number): string | undefined => (tag === 'user' ? this.userName(id) : this.groupName(id));

  /** Primary group plus every group listing the user as a member. */
  groupIdsOf(user: PosixUser): number[] {
    const gids = new Set<number>([user.gid]);
    for (const group of this.groups) if (group.members.includes(user.name)) gids.add(group.gid);
    return [...gids].sort((a, b) => a - b);
  }

  /** Group ids for the configured world-like group names (e.g. `users`); unknown names are ignored. */
  gidsNamed(names: readonly string[]): Set<number> {
    return new Set(names.map((name) => this.groupsByName.get(name)?.gid).filter((gid): gid is number => gid !== undefined));
  }
}

function readOptional(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw error;
  }
}

function records(text: string, fields: number): string[][] {
  return text.split('\n').map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#') && !line.startsWith('+') && !line.startsWith('-'))
    .map((line) => line.split(':')).filter((parts) => parts.length >= fields);
}

export function parsePasswd(text: string): PosixUser[] {
  return records(text, 4).map(([name, , uid, gid]) => ({ name, uid: Number(uid), gid: Number(gid) }))
    .filter((user) => Number.isInteger(user.uid) && Number.isInteger(user.gid));
}

export function parseGroup(text: string): PosixGroup[] {
  return records(text, 3).map(([name, , gid, members]) => ({
    name, gid: Number(gid), members: (members ?? '').split(',').map((m) => m.trim()).filter(Boolean),
  })).filter((group) => Number.isInteger(group.gid));
}
