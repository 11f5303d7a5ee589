import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsOptional, IsString, Length, ValidateIf, ValidateNested } from 'class-validator';
import { LIMITS } from '@app/domain';
import { IsDateOrInstant, IsHttpUrl } from '../../http/validators';

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
 * or calls `.map` on (correct, a 500). The validation pipe refuses null in any body member as well.
 */
export function Sources() {
  return (target: object, key: string) => {
    ValidateIf((_dto: object, value: unknown) => value !== undefined)(target, key);
    IsArray()(target, key);
    ArrayMaxSize(LIMITS.sourcesPerFact)(target, key);
    ValidateNested({ each: true })(target, key);
    Type(() => SourceDto)(target, key);
  };
}

/** What every claim may say about itself: when it became public, and where. */
export class ClaimDto {
  @ApiPropertyOptional({
    example: '2023-07-11',
    description:
      'When the claim became public: a date or RFC 3339 instant, not in the future ' +
      '(default: the earliest publishedAt of its sources, else now)',
  })
  @IsOptional()
  @IsDateOrInstant()
  assertedAt?: string;

  @ApiPropertyOptional({ type: [SourceDto], maxItems: LIMITS.sourcesPerFact })
  @Sources()
  sources?: SourceDto[];
}
