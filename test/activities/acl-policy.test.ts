// The in-memory ACL transform against the kernel and setfacl: the bytes it computes
// are what setfacl leaves in the xattr for the same change (entry order, mask), it
// reports no change when nothing changes, honours preserve and wildcards, refuses
// contradictory policies; and the filesystem snapshot detection on sample mounts.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ACCESS_BITS, PolicyError, isMinimalAcl, modeBitsOf, transformAcl, validatePolicy, type AclPolicy } from '../../lib/acl-policy';
import { ACL_XATTR_ACCESS, parseAclText, serializeAclXattr } from '../../lib/posix-acl';
import { lgetxattr } from '../../activities/ffi';
import { parseMountInfo, planFsSnapshot, takeFsSnapshot, type SnapshotTools } from '../../lib/fs-snapshot';
import { sh } from '../support/remediation-fixtures';

let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'strata-acl-policy-')); });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const none: AclPolicy = { remove: [], add: [], preserve: [] };
const acl = (text: string) => parseAclText(text);

describe('transformAcl', () => {
  it('removes named entries and world bits, adds grants and recomputes the mask', () => {
    const policy: AclPolicy = { ...none, remove: [{ kind: 'user', id: 1001 }, { kind: 'other' }], add: [{ principal: { kind: 'group', id: 3000 }, perm: ACCESS_BITS.rw }] };
    const result = transformAcl(acl('u::rw-,u:1001:r--,u:1002:r--,g::r--,m::r--,o::r--'), policy);
    expect(result).toEqual(acl('u::rw-,u:1002:r--,g::r--,g:3000:rw-,m::rw-,o::---'));
  });

  it('returns the same ACL (no change) when the policy is already met, even with a restrictive mask', () => {
    const source = acl('u::rw-,u:1002:rw-,g::r--,g:3000:r--,m::r--,o::---');
    const policy: AclPolicy = { ...none, remove: [{ kind: 'other' }, { kind: 'user', id: 1001 }], add: [{ principal: { kind: 'group', id: 3000 }, perm: ACCESS_BITS.r }] };
    expect(transformAcl(source, policy)).toBe(source);
  });

  it('keeps preserved principals through a wildcard removal and drops the mask with the last named entry', () => {
    const policy: AclPolicy = { remove: [{ kind: 'user', id: '*' }, { kind: 'group', id: '*' }], add: [], preserve: [{ kind: 'user', id: 7 }] };
    expect(transformAcl(acl('u::rwx,u:7:r-x,u:8:rwx,g::r-x,g:9:rwx,m::rwx,o::r-x'), policy)).toEqual(acl('u::rwx,u:7:r-x,g::r-x,m::r-x,o::r-x'));
    const minimal = transformAcl(acl('u::rw-,u:8:rw-,g::r--,m::rw-,o::---'), { ...policy, preserve: [] });
    expect(minimal).toEqual(acl('u::rw-,g::r--,o::---'));
    expect(isMinimalAcl(minimal)).toBe(true);
    expect(modeBitsOf(minimal)).toBe(0o640);
  });

  it('never removes owner entries: removing the owner uid only drops a named entry', () => {
    const policy: AclPolicy = { ...none, remove: [{ kind: 'user', id: 0 }] };
    const source = acl('u::rw-,g::r--,o::r--');
    expect(transformAcl(source, policy)).toBe(source);
  });

  it('refuses contradictory or empty policies', () => {
    const user = { kind: 'user' as const, id: 5 };
    expect(() => validatePolicy(none)).toThrow(PolicyError);
    expect(() => validatePolicy({ ...none, remove: [user], add: [{ principal: user, perm: 4 }] })).toThrow('both added and removed');
    expect(() => validatePolicy({ ...none, remove: [user], preserve: [user] })).toThrow('both removed and preserved');
    expect(() => validatePolicy({ ...none, add: [{ principal: user, perm: 4 }], preserve: [{ kind: 'user', id: '*' }] })).toThrow('both added and preserved');
    expect(() => validatePolicy({ ...none, remove: [{ kind: 'group', id: '*' }], add: [{ principal: { kind: 'group', id: 9 }, perm: 4 }] })).not.toThrow();
  });
});

describe('transformAcl against setfacl on real files', () => {
  const cases: { start: string; setfacl: string[]; policy: AclPolicy }[] = [
    { start: 'u:1001:r,g:3000:rx', setfacl: ['-x', 'u:1001', '-m', 'o::-'], policy: { ...none, remove: [{ kind: 'user', id: 1001 }, { kind: 'other' }] } },
    { start: 'u:1001:rw,u:1005:r', setfacl: ['-m', 'g:3001:r,o::-'], policy: { ...none, remove: [{ kind: 'other' }], add: [{ principal: { kind: 'group', id: 3001 }, perm: 4 }] } },
    { start: 'g:100:rwx', setfacl: ['-m', 'g:100:r,u:2000:rw'], policy: { ...none, add: [{ principal: { kind: 'group', id: 100 }, perm: 4 }, { principal: { kind: 'user', id: 2000 }, perm: 6 }] } },
    { start: 'u:1001:r,u:1002:rw,g:5:r', setfacl: ['-x', 'u:1002,g:5', '-m', 'o::-'], policy: { ...none, remove: [{ kind: 'user', id: 1002 }, { kind: 'group', id: 5 }, { kind: 'other' }] } },
  ];

  it.each(cases.map((c, i) => [i, c] as const))('case %i: the same bytes as setfacl leaves in system.posix_acl_access', (index, c) => {
    const file = join(dir, `case${index}`);
    writeFileSync(file, '', { mode: 0o644 });
    sh('setfacl', '-m', c.start, file);
    const before = lgetxattr(file, ACL_XATTR_ACCESS)!;
    const ours = serializeAclXattr(transformAcl(acl(sh('getfacl', '-c', '-n', '-E', file).replace(/\t#effective:.*$/gm, '')), c.policy));
    sh('setfacl', ...c.setfacl, file);
    expect(before.equals(ours)).toBe(false);
    expect(lgetxattr(file, ACL_XATTR_ACCESS)!.toString('hex')).toBe(ours.toString('hex'));
  });
});

describe('filesystem snapshot detection', () => {
  const mountinfo = [
    '27 1 254:0 / / rw,relatime - ext4 /dev/vda rw',
    '40 27 0:50 /@data /srv/data rw,relatime - btrfs /dev/sdb1 rw,subvol=/@data',
    '41 27 0:51 / /tank rw - zfs tank/projects rw',
    '42 27 253:1 / /lvm rw - xfs /dev/mapper/vg0-projects rw',
  ].join('\n');
  const tools = (has: string[], subvolume = false): SnapshotTools => ({
    has: (tool) => has.includes(tool), isBtrfsSubvolume: () => subvolume, lvmVolume: (source) => (source.includes('vg0') ? 'vg0/projects' : null),
  });
  const mounts = parseMountInfo(mountinfo);

  it('picks btrfs, ZFS or LVM by the mount holding the volume, with the command that takes it', () => {
    expect(planFsSnapshot(mounts, '/srv/data/share', 'snap1', tools(['btrfs'], true))).toMatchObject({
      kind: 'btrfs', command: ['btrfs', 'subvolume', 'snapshot', '-r', '/srv/data/share', '/srv/data/share/.strata-snapshots/snap1'] });
    expect(planFsSnapshot(mounts, '/srv/data/share', 'snap1', tools(['btrfs']))).toMatchObject({ kind: 'btrfs', name: '/srv/data/.strata-snapshots/snap1' });
    expect(planFsSnapshot(mounts, '/tank/x', 'snap1', tools(['zfs']))).toMatchObject({ kind: 'zfs', command: ['zfs', 'snapshot', 'tank/projects@snap1'] });
    expect(planFsSnapshot(mounts, '/lvm/a', 'snap1', tools(['lvcreate']))).toMatchObject({ kind: 'lvm', name: 'vg0/snap1' });
  });

  it('says why none can be taken', () => {
    expect(planFsSnapshot(mounts, '/home/x', 's', tools(['lvcreate']))).toMatchObject({ kind: 'none', reason: 'ext4 on /dev/vda: not an LVM logical volume' });
    expect(planFsSnapshot(mounts, '/srv/data', 's', tools([]))).toMatchObject({ kind: 'none', reason: expect.stringContaining('btrfs-progs') });
    const here = takeFsSnapshot(dir, 'test', { dryRun: true });
    expect(here.taken).toBe(false);
    expect(here.reason.length).toBeGreaterThan(0);
  });
});
