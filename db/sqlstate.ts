// Postgres SQLSTATE codes the code reacts to, named so call sites read clearly.
export const UNIQUE_VIOLATION = '23505';
export const FOREIGN_KEY_VIOLATION = '23503';
export const CHECK_VIOLATION = '23514';
export const INSUFFICIENT_PRIVILEGE = '42501';
export const INVALID_TEXT_REPRESENTATION = '22P02';
export const BAD_COPY_FILE_FORMAT = '22P04';
export const CHARACTER_NOT_IN_REPERTOIRE = '22021';
export const UNTRANSLATABLE_CHARACTER = '22P05';
export const SERIALIZATION_FAILURE = '40001';
export const DEADLOCK_DETECTED = '40P01';
export const ADMIN_SHUTDOWN = '57P01';
export const CANNOT_CONNECT_NOW = '57P03';

export function sqlState(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error
    ? String((error as { code: unknown }).code)
    : undefined;
}
