// smb.conf and /etc/exports parsers on realistic files, and the share risk score.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSmbConf } from '../../lib/share-config-smb';
import { parseExports, isEveryone } from '../../lib/share-config-exports';
import { shareRisk, sharesFromConfigs } from '../../lib/share-config';

const SMB_CONF = `#======================= Global Settings =======================
[global]
   workgroup = WORKGROUP
   server string = %h server (Samba, Ubuntu)
   log file = /var/log/samba/log.%m
   max log size = 1000
   ; guest account = nobody
   map to guest = bad user
   Read Only = yes
   include = shares.d/extra.conf
   include = /etc/samba/%m.conf

#======================= Share Definitions =======================
[homes]
   comment = Home Directories
   browseable = no
   read only = no
   create mask = 0700
   directory mask = 0700
   valid users = %S

[printers]
   comment = All Printers
   browseable = no
   path = /var/spool/samba
   printable = yes

[print$]
   comment = Printer Drivers
   path = /var/lib/samba/printers
   browseable = yes
   write list = root, @lpadmin

[Finance]
   comment = Finance team \\
     (quarterly reports)
   path = /srv/data/finance/
   writable = yes
   valid users = @finance, "DOMAIN\\jane doe", bob
   invalid users = guest
   hosts allow = 10.0.0. 192.168.1.0/24

[public]
   path = /srv/data/public
   public = yes
   browsable = yes

[scratch]
   copy = public
   path = /srv/data/scratch
   write ok = yes

[old]
   path = /srv/old
   available = no
`;

const EXTRA_CONF = `[projects]
    directory = /srv/data/projects
    guest ok = no
    read only = no
`;

const EXPORTS = `# /etc/exports: the access control list for filesystems which may be exported
#               to NFS clients.  See exports(5).
/srv/data/public    *(ro,all_squash,insecure)   # everyone may read
/srv/data/projects  10.0.0.0/24(rw,sync,no_subtree_check) \\
                    build*.example.com(rw,no_root_squash)
"/srv/data/with space"  @trusted(rw)
/srv/data/octal\\040dir  -sync,rw host1 host2(ro)
/srv/data/oops      client1 (rw)
/srv/nfs4           gss/krb5p(rw,sec=krb5p,fsid=0)
relative/path       *(ro)
`;

describe('smb.conf', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'strata-smb-'));
    writeFileSync(join(dir, 'smb.conf'), SMB_CONF);
    mkdirSync(join(dir, 'shares.d'));
    writeFileSync(join(dir, 'shares.d', 'extra.conf'), EXTRA_CONF);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads sections, synonyms, continuations, includes, copy and global defaults', () => {
    const file = join(dir, 'smb.conf');
    const config = parseSmbConf(readFileSync(file, 'utf8'), { file });
    const byName = new Map(config.shares.map((s) => [s.name, s]));
    expect([...byName.keys()].sort()).toEqual(['Finance', 'homes', 'print$', 'projects', 'public', 'scratch']);
    expect(byName.get('Finance')).toMatchObject({
      path: '/srv/data/finance', readOnly: false, guestOk: false, comment: 'Finance team (quarterly reports)',
      validUsers: ['@finance', 'DOMAIN\\jane doe', 'bob'], invalidUsers: ['guest'], hostsAllow: ['10.0.0.', '192.168.1.0/24'],
    });
    expect(byName.get('public')).toMatchObject({ path: '/srv/data/public', guestOk: true, readOnly: true, browseable: true });
    expect(byName.get('scratch')).toMatchObject({ path: '/srv/data/scratch', guestOk: true, readOnly: false });
    expect(byName.get('projects')).toMatchObject({ path: '/srv/data/projects', readOnly: false });
    expect(byName.get('print$')).toMatchObject({ readOnly: true, writeList: ['root', '@lpadmin'] });
    expect(byName.get('homes')).toMatchObject({ path: null, validUsers: ['%S'], createMask: '0700' });
    expect(config.global).toMatchObject({ workgroup: 'WORKGROUP', maptoguest: 'bad user' });
    expect(config.warnings.join('\n')).toMatch(/include with substitutions \/etc\/samba\/%m.conf/);
    expect(config.warnings.join('\n')).toMatch(/\[old\]: available = no/);
    expect(config.warnings.join('\n')).toMatch(/\[homes\]: no fixed path/);
  });

  it('reports a missing include and keeps the rest', () => {
    const config = parseSmbConf('[a]\npath = /a\ninclude = /nonexistent/x.conf\n[b]\npath=/b', { file: '/etc/samba/smb.conf' });
    expect(config.shares.map((s) => s.path)).toEqual(['/a', '/b']);
    expect(config.warnings[0]).toMatch(/cannot include \/nonexistent\/x.conf/);
  });
});

describe('/etc/exports', () => {
  it('reads paths, quoted and escaped paths, client options, defaults and continuations', () => {
    const config = parseExports(EXPORTS);
    const byPath = new Map(config.exports.map((e) => [e.path, e]));
    expect([...byPath.keys()]).toEqual(['/srv/data/public', '/srv/data/projects', '/srv/data/with space', '/srv/data/octal dir', '/srv/data/oops', '/srv/nfs4']);
    const pub = byPath.get('/srv/data/public')!.clients[0];
    expect(pub).toMatchObject({ client: '*', everyone: true, options: { rw: false, allSquash: true, secure: false } });
    const projects = byPath.get('/srv/data/projects')!.clients;
    expect(projects.map((c) => c.client)).toEqual(['10.0.0.0/24', 'build*.example.com']);
    expect(projects[1].options).toMatchObject({ rw: true, rootSquash: false });
    expect(projects[0].everyone).toBe(false);
    const octal = byPath.get('/srv/data/octal dir')!.clients;
    expect(octal.map((c) => [c.client, c.options.rw])).toEqual([['host1', true], ['host2', false]]);
    const oops = byPath.get('/srv/data/oops')!.clients;
    expect(oops.map((c) => [c.client, c.options.rw, c.everyone])).toEqual([['client1', false, false], ['*', true, true]]);
    expect(byPath.get('/srv/nfs4')!.clients[0].options).toMatchObject({ sec: ['krb5p'], other: { fsid: '0' } });
    expect(config.warnings.join('\n')).toMatch(/without a host apply to everyone/);
    expect(config.warnings.join('\n')).toMatch(/relative\/path.*not absolute/);
  });

  it('knows which client specs admit everyone', () => {
    expect(['*', '0.0.0.0/0', '10.0.0.0/8', '::/0'].every(isEveryone)).toBe(true);
    expect(['10.0.0.0/24', 'host1', '*.example.com', '@netgroup'].some(isEveryone)).toBe(false);
  });
});

describe('share risk', () => {
  it('scores guest access, export to everyone, no_root_squash and world-readable files', () => {
    const shares = sharesFromConfigs('srv1', parseSmbConf(SMB_CONF.replace(/include = .*\n/g, '')), parseExports(EXPORTS));
    const smbPublic = shares.find((s) => s.protocol === 'smb' && s.name === 'public')!;
    expect(smbPublic.uncPath).toBe('\\\\srv1\\public');
    expect(shareRisk(smbPublic, 100, 100)).toEqual({ score: 80, level: 'CRITICAL', factors: ['100 of 100 files readable by everyone', 'guest access allowed'] });
    const finance = shares.find((s) => s.name === 'Finance')!;
    expect(shareRisk(finance, 100, 0)).toEqual({ score: 0, level: 'LOW', factors: [] });
    const nfsProjects = shares.find((s) => s.protocol === 'nfs' && s.name === '/srv/data/projects')!;
    expect(shareRisk(nfsProjects, 10, 5).factors).toEqual(['5 of 10 files readable by everyone', 'no_root_squash']);
    const nfsOops = shares.find((s) => s.name === '/srv/data/oops')!;
    expect(shareRisk(nfsOops, 0, 0)).toMatchObject({ score: 35, level: 'MEDIUM' });
  });
});
