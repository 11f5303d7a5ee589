import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { CATEGORIES, CONFIDENCES, FACT_KINDS, RELATIONS, STATUSES } from '@app/domain';
import { SourceDto } from './fact.dto';

/** What every command answers: where the incident's stream and the global log stand after it. */
export class WrittenDto {
  @ApiProperty({ example: 3, description: 'The incident stream version after the command (also the ETag)' })
  version!: number;

  @ApiProperty({ example: 42, description: 'Global log position; pass as minPosition to read your write' })
  position!: number;
}

export class IncidentWrittenDto extends WrittenDto {
  @ApiProperty({ example: 'storm-0558' })
  id!: string;
}

export class FactWrittenDto extends WrittenDto {
  @ApiProperty({ format: 'uuid' })
  factId!: string;
}

export class StatusWrittenDto extends IncidentWrittenDto {
  @ApiProperty({ enum: STATUSES, example: 'contained' })
  status!: string;
}

export class IncidentSummaryDto {
  @ApiProperty({ example: 'storm-0558' })
  id!: string;

  @ApiProperty()
  title!: string;

  @ApiProperty({ enum: CATEGORIES })
  category!: string;

  @ApiProperty({ enum: STATUSES })
  status!: string;

  @ApiProperty({ format: 'date-time' })
  updatedAt!: string;

  @ApiProperty()
  version!: number;
}

export class IncidentListDto {
  @ApiProperty({ type: [IncidentSummaryDto] })
  items!: IncidentSummaryDto[];

  @ApiProperty({ type: String, nullable: true, description: 'Cursor of the next page (also in the Link header)' })
  next!: string | null;
}

export class OccurredIntervalDto {
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'null: open start' })
  earliest!: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'null: open end' })
  latest!: string | null;
}

export class CorrectionDto {
  @ApiProperty()
  reason!: string;

  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The fields as corrected' })
  changes!: Record<string, unknown>;

  @ApiProperty({ format: 'date-time' })
  assertedAt!: string;

  @ApiProperty({ format: 'date-time' })
  recordedAt!: string;

  @ApiProperty()
  version!: number;
}

export class RetractionDto {
  @ApiProperty()
  reason!: string;

  @ApiProperty({ format: 'date-time' })
  assertedAt!: string;

  @ApiProperty({ format: 'date-time' })
  recordedAt!: string;

  @ApiProperty()
  version!: number;
}

export class FactViewDto {
  @ApiProperty({ format: 'uuid' })
  factId!: string;

  @ApiProperty({ enum: FACT_KINDS })
  kind!: string;

  @ApiProperty({ example: 'KeyCaptured', description: 'The event type that recorded it' })
  type!: string;

  @ApiProperty({ example: '2021-04~', description: 'EDTF, as written' })
  occurredAt!: string;

  @ApiProperty({ type: OccurredIntervalDto })
  occurredInterval!: OccurredIntervalDto;

  @ApiProperty()
  summary!: string;

  @ApiProperty({ enum: CONFIDENCES })
  confidence!: string;

  @ApiProperty({ type: [SourceDto] })
  sources!: SourceDto[];

  @ApiProperty({ type: [String] })
  actors!: string[];

  @ApiPropertyOptional({ type: [String], example: ['T1606.002'], description: 'MITRE ATT&CK technique ids' })
  techniques?: string[];

  @ApiProperty({ format: 'date-time', description: 'When the claim as it stands became public' })
  assertedAt!: string;

  @ApiProperty({ format: 'date-time' })
  recordedAt!: string;

  @ApiProperty()
  version!: number;

  @ApiProperty()
  position!: number;

  @ApiProperty()
  corrected!: boolean;

  @ApiProperty({ type: [CorrectionDto] })
  corrections!: CorrectionDto[];

  @ApiProperty()
  retracted!: boolean;

  @ApiProperty({ type: RetractionDto, nullable: true })
  retraction!: RetractionDto | null;

  @ApiPropertyOptional({ description: 'With validAt: whether it certainly occurred by then' })
  settled?: boolean;
}

export class ImpactDto {
  @ApiPropertyOptional({ minimum: 0 })
  lossUsd?: number;

  @ApiPropertyOptional({ minimum: 0 })
  records?: number;

  @ApiPropertyOptional({ minimum: 0 })
  organisations?: number;
}

export class LinkDto {
  @ApiProperty({ example: 'salt-typhoon' })
  incidentId!: string;

  @ApiProperty({ enum: RELATIONS })
  relation!: string;

  @ApiProperty({ format: 'date-time' })
  recordedAt!: string;
}

export class IncidentViewDto {
  @ApiProperty({ example: 'storm-0558' })
  id!: string;

  @ApiProperty()
  title!: string;

  @ApiProperty({ enum: CATEGORIES })
  category!: string;

  @ApiProperty()
  summary!: string;

  @ApiProperty({ type: [String] })
  victims!: string[];

  @ApiProperty({ type: [String] })
  threatActors!: string[];

  @ApiProperty({ enum: STATUSES, nullable: true, description: 'null at a validAt before the first status' })
  status!: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  statusEffectiveAt!: string | null;

  @ApiProperty({ type: ImpactDto })
  impact!: ImpactDto;

  @ApiProperty({ type: [LinkDto] })
  links!: LinkDto[];

  @ApiProperty()
  version!: number;

  @ApiProperty()
  position!: number;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ format: 'date-time' })
  updatedAt!: string;

  @ApiProperty({ type: [FactViewDto] })
  timeline!: FactViewDto[];
}

export class TimelineDto {
  @ApiProperty({ type: [FactViewDto] })
  items!: FactViewDto[];
}

export class StatusPeriodDto {
  @ApiProperty({ enum: STATUSES, nullable: true })
  from!: string | null;

  @ApiProperty({ enum: STATUSES })
  to!: string;

  @ApiProperty({ format: 'date-time' })
  effectiveAt!: string;

  @ApiProperty({ format: 'date-time' })
  recordedAt!: string;

  @ApiPropertyOptional()
  reason?: string;

  @ApiProperty()
  version!: number;
}

export class StatusHistoryDto {
  @ApiProperty({ type: [StatusPeriodDto] })
  items!: StatusPeriodDto[];
}

export class ActorDto {
  @ApiProperty({ example: 'urn:incident-timeline:local' })
  iss!: string;

  @ApiProperty({ example: 'alice' })
  sub!: string;
}

export class HistoryEntryDto {
  @ApiProperty({ format: 'uuid' })
  eventId!: string;

  @ApiProperty({ example: 'FactCorrected' })
  type!: string;

  @ApiProperty({ example: 'incident-storm-0558' })
  streamId!: string;

  @ApiProperty()
  version!: number;

  @ApiProperty()
  position!: number;

  @ApiProperty({ format: 'date-time' })
  recordedAt!: string;

  @ApiProperty({ type: ActorDto, nullable: true })
  actor!: ActorDto | null;

  @ApiProperty({ type: String, nullable: true })
  correlationId!: string | null;

  @ApiPropertyOptional()
  idempotencyKey?: string;

  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The event data' })
  data!: Record<string, unknown>;
}

export class HistoryPageDto {
  @ApiProperty({ type: [HistoryEntryDto] })
  items!: HistoryEntryDto[];

  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'Pass as `after` for the next page (also in the Link header)',
  })
  next!: number | null;
}

const header = (description: string, example: string) => ({ description, schema: { type: 'string', example } });

export const ETAG_HEADER = { ETag: header('The incident version as a strong entity tag', '"3"') };

/** Headers of a command's response. */
export const WRITTEN_HEADERS = {
  ...ETAG_HEADER,
  'Idempotent-Replayed': header('true when this replays the first answer to the same Idempotency-Key', 'true'),
};

export const CREATED_HEADERS = {
  ...WRITTEN_HEADERS,
  Location: header('Where the created resource is read', '/v1/incidents/storm-0558'),
};

export const LINK_HEADER = {
  Link: header('The next page, when there is one (RFC 8288)', '</v1/incidents?limit=50&cursor=WyIy...>; rel="next"'),
};
