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
import { IsDateOrInstant, IsIncidentId } from '../../http/validators';
import { ClaimDto } from './claim.dto';
import { NameList } from './names';

export class OpenIncidentDto extends ClaimDto {
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
    description: 'When the initial status took effect: a date (its first instant, UTC) or an instant (default: now)',
  })
  @IsOptional()
  @IsDateOrInstant()
  effectiveAt?: string;
}

export class ReviseIncidentDto extends ClaimDto {
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

  @ApiPropertyOptional({ example: 'The vendor named a second affected agency.' })
  @IsOptional()
  @IsString()
  @Length(1, LIMITS.reasonLength)
  reason?: string;
}

export class ChangeStatusDto extends ClaimDto {
  @ApiProperty({ enum: STATUSES, example: 'contained' })
  @IsIn(STATUSES)
  status!: IncidentStatus;

  @ApiPropertyOptional({
    example: '2023-07-11',
    description:
      'When the change took effect, in valid time: a date (its first instant, UTC) or an instant (default: now). ' +
      'It may fall between two earlier changes when both transitions around it are allowed.',
  })
  @IsOptional()
  @IsDateOrInstant()
  effectiveAt?: string;

  @ApiPropertyOptional({ example: 'Consumer key revoked; forged tokens no longer accepted.' })
  @IsOptional()
  @IsString()
  @Length(1, LIMITS.reasonLength)
  reason?: string;
}

export class AssessImpactDto extends ClaimDto {
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

export class LinkIncidentDto extends ClaimDto {
  @ApiProperty({ example: 'salt-typhoon' })
  @IsIncidentId()
  incidentId!: string;

  @ApiProperty({ enum: RELATIONS, example: 'related' })
  @IsIn(RELATIONS)
  relation!: Relation;

  @ApiPropertyOptional({ example: 'Both intrusions are attributed to APT29.' })
  @IsOptional()
  @IsString()
  @Length(1, LIMITS.reasonLength)
  reason?: string;
}
