// Error classes shared by activities. Their names appear in the activity presets'
// nonRetryableErrorTypes: a permanent error fails fast instead of retrying.
export class InvalidInputError extends Error {
  constructor(message: string) { super(message); this.name = 'InvalidInputError'; }
}

export class NotFoundError extends Error {
  constructor(message: string) { super(message); this.name = 'NotFoundError'; }
}

export class ConflictError extends Error {
  constructor(message: string) { super(message); this.name = 'ConflictError'; }
}

export class TenantMismatchError extends Error {
  constructor(message: string) { super(message); this.name = 'TenantMismatchError'; }
}

export class VaultPermissionError extends Error {
  constructor(message: string) { super(message); this.name = 'VaultPermissionError'; }
}

export class VaultUnavailableError extends Error {
  constructor(message: string) { super(message); this.name = 'VaultUnavailableError'; }
}

export class ChecksumMismatchError extends Error {
  constructor(message: string) { super(message); this.name = 'ChecksumMismatchError'; }
}

export class FileSystemError extends Error {
  constructor(readonly code: string, readonly errno: number, readonly syscall: string, readonly path: string | undefined, message: string) {
    super(message); this.name = 'FileSystemError';
  }
}

export class SpoolMissingError extends Error {
  constructor(message: string) { super(message); this.name = 'SpoolMissingError'; }
}

/** Another attempt of the same walk partition committed past this attempt's checkpoint (retried, it resumes from there). */
export class CheckpointMovedError extends Error {
  constructor(message: string) { super(message); this.name = 'CheckpointMovedError'; }
}

/** Retryable: another attempt of the same tiering action still holds its lock. */
export class ActionBusyError extends Error {
  constructor(message: string) { super(message); this.name = 'ActionBusyError'; }
}
