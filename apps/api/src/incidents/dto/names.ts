import { applyDecorators } from '@nestjs/common';
import { ArrayMaxSize, IsArray, IsOptional, IsString, Length, Matches } from 'class-validator';
import { LIMITS, TECHNIQUE_ID_PATTERN } from '@app/domain';

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

/** An optional list of MITRE ATT&CK technique ids (T1606, T1606.002). */
export function TechniqueList() {
  return applyDecorators(
    IsOptional(),
    IsArray(),
    ArrayMaxSize(LIMITS.techniquesPerFact),
    IsString({ each: true }),
    Matches(TECHNIQUE_ID_PATTERN, {
      each: true,
      message: '$property must hold MITRE ATT&CK technique ids, e.g. T1606 or T1606.002',
    }),
  );
}
