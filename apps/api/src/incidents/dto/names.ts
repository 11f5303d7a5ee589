import { applyDecorators } from '@nestjs/common';
import { ArrayMaxSize, IsArray, IsOptional, IsString, Length } from 'class-validator';
import { LIMITS } from '@app/domain';

/** An optional list of short, non-empty names (victims, threat actors, actors). */
export function NameList(maxItems: number) {
  return applyDecorators(
    IsOptional(),
    IsArray(),
    ArrayMaxSize(maxItems),
    IsString({ each: true }),
    Length(1, LIMITS.nameLength, { each: true }),
  );
}
