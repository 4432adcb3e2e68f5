// Human-readable output: aligned tables, key/value blocks, byte sizes and progress bars.
export type Row = Record<string, unknown>;

export function cell(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

export function table(rows: Row[], columns: [key: string, header: string][]): string {
  if (rows.length === 0) return '(none)';
  const cells = rows.map((row) => columns.map(([key]) => cell(row[key]).replace(/\s+/g, ' ')));
  const widths = columns.map(([, header], i) => Math.max(header.length, ...cells.map((line) => line[i].length)));
  const render = (line: string[]) => line.map((text, i) => (i === line.length - 1 ? text : text.padEnd(widths[i]))).join('  ').trimEnd();
  return [render(columns.map(([, header]) => header.toUpperCase())), ...cells.map(render)].join('\n');
}

export function keyValues(entries: [label: string, value: unknown][]): string {
  const width = Math.max(...entries.map(([label]) => label.length));
  return entries.map(([label, value]) => `${label.padEnd(width)}  ${cell(value)}`).join('\n');
}

export function bytes(value: unknown): string {
  const n = Number(value);
  if (!Number.isFinite(n)) return '-';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let size = n;
  let unit = 0;
  while (Math.abs(size) >= 1024 && unit < units.length - 1) { size /= 1024; unit += 1; }
  return unit === 0 ? `${n} B` : `${size.toFixed(1)} ${units[unit]}`;
}

/** `[##########..........]  50%  5/10`; without a known total, only the count. */
export function progressBar(done: number, total: number | null | undefined, width = 30): string {
  if (!total || total <= 0) return `${done} done`;
  const ratio = Math.min(1, Math.max(0, done / total));
  const filled = Math.round(ratio * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.floor(ratio * 100)).padStart(3)}%  ${done}/${total}`;
}

/** Counters of a run as `name=value` pairs, skipping nested objects. */
export function counters(values: Record<string, unknown> | null | undefined): string {
  const pairs = Object.entries(values ?? {}).filter(([, value]) => value === null || typeof value !== 'object');
  return pairs.length === 0 ? '-' : pairs.map(([key, value]) => `${key}=${cell(value)}`).join(' ');
}
