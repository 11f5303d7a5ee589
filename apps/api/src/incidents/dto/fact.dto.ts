import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsIn, IsOptional, IsString, Length, ValidateIf, ValidateNested } from 'class-validator';
import { CONFIDENCES, FACT_KINDS, LIMITS, type Confidence, type FactKind } from '@app/domain';
import { IsDateOrInstant, IsEdtf, IsHttpUrl } from '../../http/validators';
import { NameList } from './names';

export class SourceDto {
  @ApiProperty({
    example:
      'https://msrc.microsoft.com/blog/2023/09/results-of-major-technical-investigations-for-storm-0558-key-acquisition/',
  })
  @IsHttpUrl()
  url!: string;

  @ApiPropertyOptional({ example: 'Results of major technical investigations for Storm-0558 key acquisition' })
  @IsOptional()
  @IsString()
  @Length(1, LIMITS.nameLength * 2)
  title?: string;

  @ApiPropertyOptional({ example: 'Microsoft Security Response Center' })
  @IsOptional()
  @IsString()
  @Length(1, LIMITS.nameLength)
  publisher?: string;

  @ApiPropertyOptional({ example: '2023-09-06', description: 'Date or RFC 3339 instant; not in the future' })
  @IsOptional()
  @IsDateOrInstant()
  publishedAt?: string;
}

/**
 * Optional, but not nullable: IsOptional would let `null` through, which the controller reads as "no sources" (record)
 * or calls `.map` on (correct, a 500). Every other optional field's null is refused by the domain's rules.
 */
function Sources() {
  return (target: object, key: string) => {
    ValidateIf((_dto: object, value: unknown) => value !== undefined)(target, key);
    IsArray()(target, key);
    ArrayMaxSize(LIMITS.sourcesPerFact)(target, key);
    ValidateNested({ each: true })(target, key);
    Type(() => SourceDto)(target, key);
  };
}

export class RecordFactDto {
  @ApiProperty({ enum: FACT_KINDS, example: 'notification' })
  @IsIn(FACT_KINDS)
  kind!: FactKind;

  @ApiProperty({
    example: '2023-06-16',
    description: 'EDTF level 0/1: 2023-06-16, 2023-06, 2021~, 2023-05/2023-06, ../2023-05',
  })
  @IsEdtf()
  occurredAt!: string;

  @ApiProperty({
    example: 'The State Department notices anomalous mail access and notifies Microsoft.',
    maxLength: LIMITS.factSummaryLength,
  })
  @IsString()
  @Length(1, LIMITS.factSummaryLength)
  summary!: string;

  @ApiPropertyOptional({ enum: CONFIDENCES, default: 'confirmed' })
  @IsOptional()
  @IsIn(CONFIDENCES)
  confidence?: Confidence;

  @ApiPropertyOptional({ type: [SourceDto], maxItems: LIMITS.sourcesPerFact })
  @Sources()
  sources?: SourceDto[];

  @ApiPropertyOptional({
    example: '2023-07-11',
    description: 'When the claim became public (default: earliest source publishedAt, else now)',
  })
  @IsOptional()
  @IsDateOrInstant()
  assertedAt?: string;

  @ApiPropertyOptional({ type: [String], example: ['Storm-0558'] })
  @NameList(LIMITS.actorsPerFact)
  actors?: string[];
}

export class CorrectFactDto {
  @ApiPropertyOptional({ example: '2021-04~' })
  @IsOptional()
  @IsEdtf()
  occurredAt?: string;

  @ApiPropertyOptional({ maxLength: LIMITS.factSummaryLength })
  @IsOptional()
  @IsString()
  @Length(1, LIMITS.factSummaryLength)
  summary?: string;

  @ApiPropertyOptional({ enum: CONFIDENCES, example: 'disputed' })
  @IsOptional()
  @IsIn(CONFIDENCES)
  confidence?: Confidence;

  @ApiPropertyOptional({ type: [String] })
  @NameList(LIMITS.actorsPerFact)
  actors?: string[];

  @ApiPropertyOptional({ type: [SourceDto], description: 'Sources for the correction, added to the fact' })
  @Sources()
  sources?: SourceDto[];

  @ApiPropertyOptional({ example: '2024-03-12' })
  @IsOptional()
  @IsDateOrInstant()
  assertedAt?: string;

  @ApiProperty({ example: 'Microsoft updated its analysis: no crash dump containing the key was found.' })
  @IsString()
  @Length(1, LIMITS.reasonLength)
  reason!: string;
}

export class RetractFactDto {
  @ApiProperty({ example: 'Recorded against the wrong incident.' })
  @IsString()
  @Length(1, LIMITS.reasonLength)
  reason!: string;

  @ApiPropertyOptional({ example: '2024-03-12' })
  @IsOptional()
  @IsDateOrInstant()
  assertedAt?: string;
}
