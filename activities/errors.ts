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
