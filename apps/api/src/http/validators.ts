import { isDateOrInstant, isIncidentId, isRfc3339Instant, parseEdtf } from '@app/domain';
import { registerDecorator, type ValidationOptions } from 'class-validator';

function rule(name: string, test: (value: unknown) => boolean, message: string) {
  return (options?: ValidationOptions): PropertyDecorator =>
    (target, propertyKey) =>
      registerDecorator({
        name,
        target: target.constructor,
        propertyName: propertyKey as string,
        options: { message, ...options },
        validator: { validate: test },
      });
}

export const IsIncidentId = rule(
  'isIncidentId',
  isIncidentId,
  '$property must be 3-64 characters of a-z, 0-9 and -, starting and ending with a letter or digit',
);

export const IsEdtf = rule(
  'isEdtf',
  (value) => typeof value === 'string' && parseEdtf(value).ok,
  '$property must be an EDTF date of level 0 or 1 or a one-of set, e.g. 2023-06-16, 2023-06, 2021~, 2023-21, 2023-05/2023-06, ../2023-05, [2023-06,2023-08]',
);

export const IsInstant = rule(
  'isInstant',
  isRfc3339Instant,
  '$property must be an RFC 3339 instant, e.g. 2023-06-16T00:00:00Z',
);

export const IsDateOrInstant = rule(
  'isDateOrInstant',
  isDateOrInstant,
  '$property must be a date (YYYY-MM-DD) or an RFC 3339 instant',
);

export const IsPosition = rule(
  'isPosition',
  (value) => typeof value === 'string' && /^\d{1,15}$/.test(value),
  '$property must be a non-negative integer position',
);

export const IsHttpUrl = rule(
  'isHttpUrl',
  (value) => {
    if (typeof value !== 'string' || value.length > 2048) return false;
    try {
      const url = new URL(value);
      return (url.protocol === 'https:' || url.protocol === 'http:') && url.hostname.length > 0;
    } catch {
      return false;
    }
  },
  '$property must be an http(s) URL of at most 2048 characters',
);
