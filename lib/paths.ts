// Locates the project root from compiled (dist/) or source code alike.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

let cached: string | undefined;

export function projectRoot(): string {
  if (cached) return cached;
  let dir = __dirname;
  while (dirname(dir) !== dir) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).name === 'strata') return (cached = dir);
    dir = dirname(dir);
  }
  throw new Error('cannot find the strata project root above ' + __dirname);
}
