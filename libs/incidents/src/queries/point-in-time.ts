import { isDateOrInstant, upperBoundOf, type PointInTime } from '@app/domain';

export interface PointInTimeParams {
  asOf?: string;
  knownAt?: string;
  validAt?: string;
}

export function hasPointInTime(params: PointInTimeParams): boolean {
  return params.asOf !== undefined || params.knownAt !== undefined || params.validAt !== undefined;
}

/**
 * `asOf`, `knownAt` and `validAt` accept a date, read as the end of that UTC day, or an instant. Inputs are validated at the edge; this only normalises.
 */
export function normalisePointInTime(params: PointInTimeParams): PointInTime {
  const at: PointInTime = {};
  if (params.asOf !== undefined && isDateOrInstant(params.asOf)) at.asOf = upperBoundOf(params.asOf);
  if (params.knownAt !== undefined && isDateOrInstant(params.knownAt)) at.knownAt = upperBoundOf(params.knownAt);
  if (params.validAt !== undefined && isDateOrInstant(params.validAt)) at.validAt = upperBoundOf(params.validAt);
  return at;
}
