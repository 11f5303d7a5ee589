import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { CATEGORIES, LIMITS, STATUSES, TECHNIQUE_ID_PATTERN } from '@app/domain';
import { IsDateOrInstant, IsPosition } from '../../http/validators';

/**
 * A query integer is written in decimal digits: only those become a number. Anything else ('', ' 5', '0x10', '1e2',
 * which Number() would read as 0, 5, 16 and 100) stays text, and IsInt refuses it.
 */
function DecimalInteger() {
  return Transform(({ value }) => (typeof value === 'string' && /^-?\d{1,15}$/.test(value) ? Number(value) : value));
}

/** An optional page size: an integer from 1 to the service's page limit. */
function PageSize(defaultSize: number) {
  return applyDecorators(
    ApiPropertyOptional({ type: 'integer', default: defaultSize, minimum: 1, maximum: LIMITS.pageSize }),
    IsOptional(),
    DecimalInteger(),
    IsInt(),
    Min(1),
    Max(LIMITS.pageSize),
  );
}

export class ReadYourWritesDto {
  @ApiPropertyOptional({
    example: '42',
    description:
      'Wait (up to 5 s) until the read models have applied this position; beyond the end of the log, 400 at once',
  })
  @IsOptional()
  @IsPosition()
  minPosition?: string;
}

export class PointInTimeDto extends ReadYourWritesDto {
  @ApiPropertyOptional({
    example: '2026-01-01T00:00:00Z',
    description: 'Only events recorded at or before this instant (a date means the end of that day, UTC)',
  })
  @IsOptional()
  @IsDateOrInstant()
  asOf?: string;

  @ApiPropertyOptional({
    example: '2023-10-01',
    description:
      'The record as publicly known then: only claims (the incident itself, details, status, impact, links, facts, ' +
      'corrections, retractions) asserted by then, and sources published by then (date or instant)',
  })
  @IsOptional()
  @IsDateOrInstant()
  knownAt?: string;

  @ApiPropertyOptional({
    example: '2023-06-30',
    description: 'Facts that had occurred by then, and the status in effect',
  })
  @IsOptional()
  @IsDateOrInstant()
  validAt?: string;
}

export class TimelineQueryDto extends PointInTimeDto {
  @ApiPropertyOptional({ enum: ['true', 'false'], default: 'false' })
  @IsOptional()
  @IsIn(['true', 'false'])
  includeRetracted?: 'true' | 'false';
}

export class ListIncidentsQueryDto extends PointInTimeDto {
  @ApiPropertyOptional({ enum: STATUSES })
  @IsOptional()
  @IsIn(STATUSES)
  status?: string;

  @ApiPropertyOptional({ enum: CATEGORIES })
  @IsOptional()
  @IsIn(CATEGORIES)
  category?: string;

  @ApiPropertyOptional({ example: 'signing key', description: 'Case-insensitive text search' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  q?: string;

  @ApiPropertyOptional({
    example: 'T1606',
    description:
      'Only incidents with a fact using this MITRE ATT&CK technique (a technique matches its sub-techniques)',
  })
  @IsOptional()
  @Matches(TECHNIQUE_ID_PATTERN, { message: '$property must be a MITRE ATT&CK technique id, e.g. T1606 or T1606.002' })
  technique?: string;

  @PageSize(50)
  limit?: number;

  @ApiPropertyOptional({ description: 'The `next` value of the previous page' })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9_-]{1,512}$/, { message: 'cursor must be a cursor returned as next by this endpoint' })
  cursor?: string;
}

export class HistoryQueryDto {
  @ApiPropertyOptional({ type: 'integer', description: 'Return events after this version', example: 10, minimum: -1 })
  @IsOptional()
  @DecimalInteger()
  @IsInt()
  @Min(-1)
  after?: number;

  @PageSize(100)
  limit?: number;
}

export class EventsQueryDto {
  @ApiPropertyOptional({ description: 'Return events after this global position', example: '0' })
  @IsOptional()
  @IsPosition()
  after?: string;

  @PageSize(100)
  limit?: number;
}

export class DiffQueryDto extends ReadYourWritesDto {
  @ApiProperty({ example: '2023-10-01', description: 'The earlier point: a date (its end, UTC) or an instant' })
  @IsDateOrInstant()
  from!: string;

  @ApiProperty({ example: '2024-06-01', description: 'The later point: a date (its end, UTC) or an instant' })
  @IsDateOrInstant()
  to!: string;

  @ApiPropertyOptional({
    enum: ['knownAt', 'asOf'],
    default: 'knownAt',
    description: 'knownAt: what changed in public knowledge; asOf: what changed in this record',
  })
  @IsOptional()
  @IsIn(['knownAt', 'asOf'])
  axis?: 'knownAt' | 'asOf';
}
