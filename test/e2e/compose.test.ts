// docker-compose.yml must stay valid for Debian's docker-compose (no engine here).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from '../../lib/paths';

describe('docker-compose.yml', () => {
  it('validates with docker-compose config -q', () => {
    const output = execFileSync('docker-compose', ['-f', join(projectRoot(), 'docker-compose.yml'), 'config', '-q'], {
      env: { ...process.env, VAULT_TOKEN: 'validation-only' }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(output).toBe('');
  });

  it('describes every part of the system', () => {
    const services = execFileSync('docker-compose', ['-f', join(projectRoot(), 'docker-compose.yml'), 'config', '--services'], {
      env: { ...process.env, VAULT_TOKEN: 'validation-only' }, encoding: 'utf8',
    }).trim().split('\n').sort();
    expect(services).toEqual(expect.arrayContaining(['api', 'central-worker', 'host-worker', 'postgres', 'temporal', 'temporal-ui', 'vault']));
  });
});
