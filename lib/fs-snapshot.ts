// A filesystem snapshot before remediation touches a volume, where the volume can
// take one: a read-only btrfs subvolume snapshot, an LVM snapshot volume, or a ZFS
// snapshot. Detection reads /proc/self/mountinfo; the result says which was taken,
// or why none was (filesystem, missing tool, not a subvolume or logical volume).
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';

export interface MountEntry { mountPoint: string; root: string; fsType: string; source: string; device: string }
export type SnapshotKind = 'btrfs' | 'lvm' | 'zfs' | 'none';
export interface SnapshotPlan { kind: SnapshotKind; fsType: string; source: string; mountPoint: string; reason: string; command: string[] | null; name: string | null }
export interface FsSnapshotResult extends SnapshotPlan { taken: boolean; error: string | null }

export interface SnapshotTools { has(tool: string): boolean; isBtrfsSubvolume(path: string): boolean; lvmVolume(source: string): string | null }

const unescapeMount = (field: string) => field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));

export function parseMountInfo(text: string): MountEntry[] {
  return text.split('\n').filter(Boolean).map((line) => {
    const fields = line.split(' ');
    const dash = fields.indexOf('-');
    return { device: fields[2], root: unescapeMount(fields[3]), mountPoint: unescapeMount(fields[4]), fsType: fields[dash + 1], source: unescapeMount(fields[dash + 2]) };
  });
}

/** The mount holding path (the last, i.e. topmost, of the longest matching mount points). */
export function mountOf(mounts: MountEntry[], path: string): MountEntry | undefined {
  const inside = (mount: MountEntry) => mount.mountPoint === '/' || path === mount.mountPoint || path.startsWith(`${mount.mountPoint}/`);
  return mounts.filter(inside).sort((a, b) => a.mountPoint.length - b.mountPoint.length).pop();
}

/** What snapshot the volume supports and the command that takes it. */
export function planFsSnapshot(mounts: MountEntry[], volume: string, name: string, tools: SnapshotTools): SnapshotPlan {
  const mount = mountOf(mounts, volume);
  if (!mount) return none('?', '?', '', `no mount holds ${volume}`);
  const base = { fsType: mount.fsType, source: mount.source, mountPoint: mount.mountPoint };
  if (mount.fsType === 'btrfs') {
    if (!tools.has('btrfs')) return { ...base, ...noneOf('btrfs volume, but the btrfs tool (btrfs-progs) is not installed') };
    const subvolume = tools.isBtrfsSubvolume(volume) ? volume : mount.mountPoint;
    const target = join(subvolume, '.strata-snapshots', name);
    return { ...base, kind: 'btrfs', name: target, reason: `read-only snapshot of subvolume ${subvolume}`, command: ['btrfs', 'subvolume', 'snapshot', '-r', subvolume, target] };
  }
  if (mount.fsType === 'zfs') {
    if (!tools.has('zfs')) return { ...base, ...noneOf('ZFS dataset, but the zfs tool is not installed') };
    return { ...base, kind: 'zfs', name: `${mount.source}@${name}`, reason: `snapshot of dataset ${mount.source}`, command: ['zfs', 'snapshot', `${mount.source}@${name}`] };
  }
  const lv = tools.has('lvcreate') ? tools.lvmVolume(mount.source) : null;
  if (lv) {
    return { ...base, kind: 'lvm', name: `${lv.split('/')[0]}/${name}`, reason: `snapshot volume of ${lv}`, command: ['lvcreate', '--snapshot', '--name', name, '--extents', '10%ORIGIN', lv] };
  }
  const why = tools.has('lvcreate') ? 'not an LVM logical volume' : 'not btrfs or ZFS, and no LVM tools to check for a logical volume';
  return { ...base, ...noneOf(`${mount.fsType} on ${mount.source}: ${why}`) };
}

function noneOf(reason: string): Pick<SnapshotPlan, 'kind' | 'reason' | 'command' | 'name'> {
  return { kind: 'none', reason, command: null, name: null };
}

function none(fsType: string, source: string, mountPoint: string, reason: string): SnapshotPlan {
  return { fsType, source, mountPoint, ...noneOf(reason) };
}

export const systemTools: SnapshotTools = {
  has(tool) {
    return ['/usr/sbin', '/usr/bin', '/sbin', '/bin', '/usr/local/sbin', '/usr/local/bin'].some((dir) => existsSync(join(dir, tool)));
  },
  isBtrfsSubvolume(path) {
    return Number(lstatSync(path, { bigint: true }).ino) === 256;
  },
  lvmVolume(source) {
    try {
      const out = execFileSync('lvs', ['--noheadings', '-o', 'vg_name,lv_name', source], { encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
      const [vg, lv] = out.split(/\s+/);
      return vg && lv ? `${vg}/${lv}` : null;
    } catch {
      return null;
    }
  },
};

/** Takes the snapshot (unless dryRun); a snapshot of the same name already there counts as taken. */
export function takeFsSnapshot(volume: string, name: string, options: { dryRun?: boolean; tools?: SnapshotTools; mountInfo?: string } = {}): FsSnapshotResult {
  const mounts = parseMountInfo(options.mountInfo ?? readFileSync('/proc/self/mountinfo', 'utf8'));
  const plan = planFsSnapshot(mounts, realpathSync(volume), name, options.tools ?? systemTools);
  if (plan.kind === 'none' || options.dryRun || !plan.command) return { ...plan, taken: false, error: null };
  if (plan.kind === 'btrfs' && plan.name && existsSync(plan.name)) return { ...plan, taken: true, error: null };
  try {
    if (plan.kind === 'btrfs' && plan.name) mkdirSync(join(plan.name, '..'), { recursive: true });
    execFileSync(plan.command[0], plan.command.slice(1), { timeout: 120_000, stdio: ['ignore', 'pipe', 'pipe'] });
    return { ...plan, taken: true, error: null };
  } catch (error) {
    const message = String((error as { stderr?: Buffer }).stderr ?? (error as Error).message).trim();
    if (/exists/i.test(message)) return { ...plan, taken: true, error: null };
    return { ...plan, taken: false, error: message.slice(0, 500) };
  }
}
