import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsNumber, IsInt, IsOptional, IsString, Length, MaxLength, Min } from 'class-validator';
import {
  CATEGORIES,
  LIMITS,
  RELATIONS,
  STATUSES,
  type Category,
  type IncidentStatus,
  type Relation,
} from '@app/domain';
import { IsIncidentId, IsInstant } from '../../http/validators';
import { NameList } from './names';

export class OpenIncidentDto {
  @ApiProperty({ example: 'storm-0558', pattern: '^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$' })
  @IsIncidentId()
  id!: string;

  @ApiProperty({
    example: 'Storm-0558 forged tokens with a stolen consumer signing key',
    maxLength: LIMITS.titleLength,
  })
  @IsString()
  @Length(1, LIMITS.titleLength)
  title!: string;

  @ApiProperty({ enum: CATEGORIES, example: 'espionage' })
  @IsIn(CATEGORIES)
  category!: Category;

  @ApiPropertyOptional({ example: 'Mail read at about 25 organisations.', maxLength: LIMITS.incidentSummaryLength })
  @IsOptional()
  @IsString()
  @MaxLength(LIMITS.incidentSummaryLength)
  summary?: string;

  @ApiPropertyOptional({ type: [String], example: ['US State Department'], maxItems: LIMITS.victims })
  @NameList(LIMITS.victims)
  victims?: string[];

  @ApiPropertyOptional({ type: [String], example: ['Storm-0558'], maxItems: LIMITS.threatActors })
  @NameList(LIMITS.threatActors)
  threatActors?: string[];

  @ApiPropertyOptional({ enum: STATUSES, default: 'detected' })
  @IsOptional()
  @IsIn(STATUSES)
  status?: IncidentStatus;

  @ApiPropertyOptional({
    example: '2023-06-16T00:00:00Z',
    description: 'When the initial status took effect (default: now)',
  })
  @IsOptional()
  @IsInstant()
  effectiveAt?: string;
}

export class ReviseIncidentDto {
  @ApiPropertyOptional({ maxLength: LIMITS.titleLength })
  @IsOptional()
  @IsString()
  @Length(1, LIMITS.titleLength)
  title?: string;

  @ApiPropertyOptional({ enum: CATEGORIES })
  @IsOptional()
  @IsIn(CATEGORIES)
  category?: Category;

  @ApiPropertyOptional({ maxLength: LIMITS.incidentSummaryLength })
  @IsOptional()
  @IsString()
  @MaxLength(LIMITS.incidentSummaryLength)
  summary?: string;

  @ApiPropertyOptional({ type: [String] })
  @NameList(LIMITS.victims)
  victims?: string[];

  @ApiPropertyOptional({ type: [String] })
  @NameList(LIMITS.threatActors)
  threatActors?: string[];
}

export class ChangeStatusDto {
  @ApiProperty({ enum: STATUSES, example: 'contained' })
  @IsIn(STATUSES)
  status!: IncidentStatus;

  @ApiPropertyOptional({ example: '2023-07-11T00:00:00Z', description: 'When the change took effect (default: now)' })
  @IsOptional()
  @IsInstant()
  effectiveAt?: string;

  @ApiPropertyOptional({ example: 'Consumer key revoked; forged tokens no longer accepted.' })
  @IsOptional()
  @IsString()
  @Length(1, LIMITS.reasonLength)
  reason?: string;
}

export class AssessImpactDto {
  @ApiPropertyOptional({ example: 0, minimum: 0 })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  lossUsd?: number;

  @ApiPropertyOptional({ example: 60000, minimum: 0 })
  @IsOptional()
  @IsInt()
  @Min(0)
  records?: number;

  @ApiPropertyOptional({ example: 25, minimum: 0 })
  @IsOptional()
  @IsInt()
  @Min(0)
  organisations?: number;
}

export class LinkIncidentDto {
  @ApiProperty({ example: 'salt-typhoon' })
  @IsIncidentId()
  incidentId!: string;

  @ApiProperty({ enum: RELATIONS, example: 'related' })
  @IsIn(RELATIONS)
  relation!: Relation;
}
