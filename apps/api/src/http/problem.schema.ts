import { applyDecorators } from '@nestjs/common';
import {
  ApiExtraModels,
  ApiProperty,
  ApiPropertyOptional,
  ApiResponse,
  ApiSchema,
  getSchemaPath,
} from '@nestjs/swagger';
import { PROBLEM_CONTENT_TYPE } from './problem';

@ApiSchema({ name: 'FieldError' })
export class FieldErrorDto {
  @ApiProperty({ example: 'occurredAt', description: 'The field (or header, or parameter) at fault' })
  field!: string;

  @ApiProperty({ example: 'occurredAt must be an EDTF date of level 0 or 1' })
  message!: string;
}

/** RFC 9457 problem details, the body of every error this API answers. */
@ApiSchema({ name: 'Problem' })
export class ProblemDto {
  @ApiProperty({ example: 'urn:incident-timeline:problem:validation-failed' })
  type!: string;

  @ApiProperty({ example: 'Your request is not valid' })
  title!: string;

  @ApiProperty({ example: 400, minimum: 400, maximum: 599 })
  status!: number;

  @ApiProperty({ example: 'occurredAt must be an EDTF date of level 0 or 1' })
  detail!: string;

  @ApiPropertyOptional({ example: '/v1/incidents/storm-0558/facts', description: 'The request path' })
  instance?: string;

  @ApiPropertyOptional({ type: [FieldErrorDto], description: 'Each field at fault and the rule it breaks' })
  errors?: FieldErrorDto[];

  @ApiPropertyOptional({ example: 'illegal-transition', description: 'The domain rule refused (409)' })
  rule?: string;

  @ApiPropertyOptional({ example: 3, description: 'The incident version now (412)' })
  currentVersion?: number;
}

export const RETRY_AFTER = {
  'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer', example: 5 } },
};

const MEANING: Record<number, string> = {
  400: 'Bad input: the problem names each field and rule; nothing changed',
  401: 'Missing or invalid bearer token',
  403: 'The token lacks the scope this route needs',
  404: 'No such incident (at that point in time), fact or route',
  409: 'Conflicts with the incident: duplicate, illegal transition, retracted fact; `rule` names it',
  412: 'If-Match does not match the current version (`currentVersion`, and its ETag)',
  413: 'Request body over 64 KiB',
  415: 'The body is not application/json in UTF-8',
  422: 'Idempotency-Key reused with a different request',
  429: 'Rate limit of this principal reached',
  503: 'The event store or the read models are not available in time; retry',
};

/** Documents these error statuses, each an application/problem+json body with the shared Problem schema. */
export function ApiProblems(...statuses: number[]) {
  return applyDecorators(
    ApiExtraModels(ProblemDto),
    ...statuses.map((status) =>
      ApiResponse({
        status,
        description: MEANING[status] ?? 'Error',
        content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: getSchemaPath(ProblemDto) } } },
        ...((status === 429 || status === 503) && { headers: RETRY_AFTER }),
        ...(status === 412 && {
          headers: { ETag: { description: 'The current version', schema: { type: 'string', example: '"3"' } } },
        }),
      }),
    ),
  );
}
