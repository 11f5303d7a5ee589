export type DomainErrorCode =
  | 'invalid'
  | 'not-found'
  | 'already-exists'
  | 'illegal-transition'
  | 'fact-retracted'
  | 'duplicate-link'
  | 'status-order'
  | 'asserted-before-fact'
  | 'asserted-before-incident'
  | 'still-unreadable';

export interface FieldViolation {
  field: string;
  message: string;
}

/** A command refused by a domain rule. Carries the rule and, for bad values, the fields at fault. */
export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    readonly errors: FieldViolation[] = [],
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }

  static invalid(field: string, message: string): DomainError {
    return new DomainError('invalid', `${field} ${message}`, [{ field, message }]);
  }
}
