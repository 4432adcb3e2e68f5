// What a scan chunk may contain: its columns, value ranges and size limits, in
// one place so the api, the agent and the tests agree.
export const CSV_COLUMNS = ['dir_path', 'name', 'size_bytes', 'atime_unix', 'mtime_unix', 'ctime_unix'] as const;

/** 1900-01-01T00:00:00Z and 9999-12-31T23:59:59Z as Unix seconds. */
export const MIN_TIME = -2_208_988_800;
export const MAX_TIME = 253_402_300_799;

export interface CsvLimits {
  /** Decompressed bytes per chunk; also the gzip-bomb guard. */
  maxBytes: number;
  maxRows: number;
  /** Kept below the b-tree key limit of the dir and file unique indexes. */
  maxDirPathBytes: number;
  maxNameBytes: number;
  /** How many bad rows one answer reports before validation stops. */
  maxErrors: number;
}

export interface CsvProblem { line: number; column?: number; field?: string; reason: string }

export const DEFAULT_CSV_LIMITS: CsvLimits = {
  maxBytes: 512 * 1024 * 1024,
  maxRows: 2_000_000,
  maxDirPathBytes: 2048,
  maxNameBytes: 1024,
  maxErrors: 10,
};

export function csvLimitsFromEnv(env: NodeJS.ProcessEnv = process.env): CsvLimits {
  const pick = (name: string, fallback: number) => (env[name] ? Number(env[name]) : fallback);
  return {
    ...DEFAULT_CSV_LIMITS,
    maxBytes: pick('STRATA_CHUNK_MAX_BYTES', DEFAULT_CSV_LIMITS.maxBytes),
    maxRows: pick('STRATA_CHUNK_MAX_ROWS', DEFAULT_CSV_LIMITS.maxRows),
  };
}
