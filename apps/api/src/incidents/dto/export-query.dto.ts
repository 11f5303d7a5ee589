import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { EXPORT_FORMATS, type ExportFormat } from '@app/interchange';
import { IsDateOrInstant, IsInstant } from '../../http/validators';
import { ReadYourWritesDto } from './query.dto';

export class ExportQueryDto extends ReadYourWritesDto {
  @ApiPropertyOptional({
    enum: EXPORT_FORMATS,
    default: 'stix',
    description: 'stix: a STIX 2.1 bundle; markdown: a post-incident report; csv: one row per fact',
  })
  @IsOptional()
  @IsIn(EXPORT_FORMATS)
  format?: ExportFormat;

  @ApiPropertyOptional({
    example: '2023-10-01',
    description: 'Only claims asserted by then (date or instant)',
  })
  @IsOptional()
  @IsDateOrInstant()
  knownAt?: string;

  @ApiPropertyOptional({
    example: '2026-01-01T00:00:00Z',
    description: 'Only events recorded at or before this instant',
  })
  @IsOptional()
  @IsInstant()
  asOf?: string;
}
