// Path-to-target-URI mapping end to end (property): a scanned file below a share's
// scan prefix maps to its segments, key and URI below the target root, whatever
// its characters; anything outside the prefix or with a traversal segment is
// refused, so no URI ever escapes the root.
import fc from 'fast-check';
import { fileURLToPath } from 'node:url';
import { joinScanPath, keyOfUri, objectKey, relativeSegments, targetUri, type PathStyle } from '../../lib/target-uri';

const ROOT = 'file:///mnt/tier2/acme';
const plain = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 })
  .filter((s) => !/[\\/\0]/.test(s) && s !== '.' && s !== '..');
const style = fc.constantFrom<PathStyle>('posix', 'windows');
const separator = (s: PathStyle) => (s === 'posix' ? '/' : '\\');
const trick = fc.constantFrom('..', '.', '%2e%2e', '..%2f', '\0', 'a\0b');

function pathOf(s: PathStyle, segments: string[]): string {
  return s === 'posix' ? `/${segments.join('/')}` : `C:\\${segments.join('\\')}`;
}

describe('scan path to target URI', () => {
  it('maps any file below the prefix to its segments and a URI below the root (property)', () => {
    fc.assert(fc.property(style, fc.array(plain, { minLength: 1, maxLength: 4 }), fc.array(plain, { maxLength: 5 }), plain, (s, prefix, rest, name) => {
      const dirPath = pathOf(s, [...prefix, ...rest]);
      const mapped = relativeSegments(s, pathOf(s, prefix), dirPath, name);
      expect(mapped).toEqual({ ok: true, segments: [...rest, name], relPath: [...rest, name].join('/') });
      if (!mapped.ok) return;
      expect(joinScanPath(s, dirPath, name)).toBe(`${dirPath}${separator(s)}${name}`);
      const uri = targetUri(ROOT, objectKey('projects', mapped.segments));
      expect(keyOfUri(ROOT, uri)).not.toBeNull();
      const file = fileURLToPath(uri);
      expect(file.startsWith(`${fileURLToPath(ROOT)}/projects/`)).toBe(true);
      expect(file.split('/')).not.toContain('..');
    }), { numRuns: 1500 });
  });

  it('Windows prefixes match whatever the case; POSIX ones only exactly (property)', () => {
    fc.assert(fc.property(fc.array(fc.stringMatching(/^[a-z]{1,8}$/), { minLength: 1, maxLength: 3 }), plain, (prefix, name) => {
      const upper = prefix.map((p) => p.toUpperCase());
      expect(relativeSegments('windows', pathOf('windows', upper), pathOf('windows', prefix), name).ok).toBe(true);
      expect(relativeSegments('posix', pathOf('posix', upper), pathOf('posix', prefix), name)).toEqual({ ok: false, reason: 'outside-root' });
    }));
  });

  it('refuses a traversal or NUL segment anywhere below the prefix (property)', () => {
    fc.assert(fc.property(style, fc.array(plain, { minLength: 1, maxLength: 3 }), fc.array(plain, { maxLength: 3 }), trick, fc.boolean(), (s, prefix, rest, bad, inName) => {
      const dir = pathOf(s, inName ? [...prefix, ...rest] : [...prefix, ...rest, bad]);
      const mapped = relativeSegments(s, pathOf(s, prefix), dir, inName ? bad : 'file.txt');
      const literal = bad === '%2e%2e' || bad === '..%2f';
      if (literal) {
        // Escapes are names like any other: they are encoded, never decoded into a traversal.
        expect(mapped.ok).toBe(true);
        if (mapped.ok) expect(fileURLToPath(targetUri(ROOT, objectKey('p', mapped.segments))).split('/')).not.toContain('..');
      } else if (bad === '.' && !inName) {
        expect(mapped.ok).toBe(false);
      } else {
        expect(mapped).toEqual({ ok: false, reason: 'unsafe-path' });
      }
    }), { numRuns: 1000 });
  });

  it('refuses a file whose directory is not below the prefix (property)', () => {
    fc.assert(fc.property(style, fc.array(plain, { minLength: 1, maxLength: 3 }), plain, plain, (s, prefix, other, name) => {
      fc.pre(other.toLowerCase() !== prefix[0].toLowerCase());
      const mapped = relativeSegments(s, pathOf(s, prefix), pathOf(s, [other, ...prefix.slice(1)]), name);
      expect(mapped).toEqual({ ok: false, reason: 'outside-root' });
    }));
  });
});
