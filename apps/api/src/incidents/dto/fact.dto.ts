import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsOptional, IsString, Length } from 'class-validator';
import { CONFIDENCES, FACT_KINDS, LIMITS, type Confidence, type FactKind } from '@app/domain';
import { IsDateOrInstant, IsEdtf } from '../../http/validators';
import { Sources, SourceDto } from './claim.dto';
import { NameList, TechniqueList } from './names';

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

  @ApiPropertyOptional({ type: [String], example: ['T1606.002'], description: 'MITRE ATT&CK technique ids' })
  @TechniqueList()
  techniques?: string[];
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

  @ApiPropertyOptional({ type: [String], example: ['T1606.002'], description: 'MITRE ATT&CK technique ids' })
  @TechniqueList()
  techniques?: string[];

  @ApiPropertyOptional({
    type: [SourceDto],
    description: 'Sources for the correction, added to the fact (with erratum: replace the original sources)',
  })
  @Sources()
  sources?: SourceDto[];

  @ApiPropertyOptional({
    example: '2024-03-12',
    description:
      'When the correction became public (default: its earliest source, else now); with erratum: the corrected ' +
      'assertedAt of the original claim',
  })
  @IsOptional()
  @IsDateOrInstant()
  assertedAt?: string;

  @ApiPropertyOptional({
    default: false,
    description:
      'true: fix how this service recorded the fact (a typo, a date copied wrongly); recorded as FactAmended and ' +
      'shown at every knownAt from the original claim on. false: a new public claim (FactCorrected).',
  })
  @IsOptional()
  @IsBoolean()
  erratum?: boolean;

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
