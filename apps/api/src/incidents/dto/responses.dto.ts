import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { CATEGORIES, CONFIDENCES, FACT_KINDS, RELATIONS, STATUSES } from '@app/domain';
import { SourceDto } from './claim.dto';

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

  @ApiProperty({ description: 'The date is approximate (~ or %): the interval is one unit wider on each side' })
  approximate!: boolean;

  @ApiProperty({ description: 'The date is uncertain (? or %); such a fact is never settled' })
  uncertain!: boolean;

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

  @ApiProperty({ format: 'date-time', description: 'When the original claim became public (errata included)' })
  firstAssertedAt!: string;

  @ApiProperty({ format: 'date-time' })
  recordedAt!: string;

  @ApiProperty()
  version!: number;

  @ApiProperty()
  position!: number;

  @ApiProperty()
  corrected!: boolean;

  @ApiProperty({ type: [CorrectionDto], description: 'Public corrections, in asserted order' })
  corrections!: CorrectionDto[];

  @ApiProperty({ description: 'Errata (FactAmended) fixed how this service recorded the fact' })
  amended!: boolean;

  @ApiProperty({ type: [CorrectionDto], description: 'Errata, in the order recorded' })
  errata!: CorrectionDto[];

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

  @ApiProperty({ format: 'date-time', description: 'When the incident itself became publicly known' })
  assertedAt!: string;

  @ApiProperty({ type: [SourceDto], description: 'Sources of the claims about the incident itself' })
  sources!: SourceDto[];

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

  @ApiProperty({ format: 'date-time', description: 'When the change became public' })
  assertedAt!: string;

  @ApiProperty({ format: 'date-time' })
  recordedAt!: string;

  @ApiPropertyOptional()
  reason?: string;

  @ApiProperty({ type: [SourceDto] })
  sources!: SourceDto[];

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

export class FieldChangeDto {
  @ApiProperty({ example: 'confidence' })
  field!: string;

  @ApiProperty({ nullable: true, description: 'The value at `from` (any JSON value)' })
  before!: unknown;

  @ApiProperty({ nullable: true, description: 'The value at `to` (any JSON value)' })
  after!: unknown;
}

export class FactChangeDto {
  @ApiProperty({ format: 'uuid' })
  factId!: string;

  @ApiProperty({ enum: FACT_KINDS })
  kind!: string;

  @ApiProperty({ type: FactViewDto })
  before!: FactViewDto;

  @ApiProperty({ type: FactViewDto })
  after!: FactViewDto;

  @ApiProperty({ type: [FieldChangeDto] })
  fields!: FieldChangeDto[];
}

export class FactsDiffDto {
  @ApiProperty({ type: [FactViewDto] })
  added!: FactViewDto[];

  @ApiProperty({ type: [FactViewDto], description: 'Retracted, or no longer known' })
  removed!: FactViewDto[];

  @ApiProperty({ type: [FactChangeDto] })
  changed!: FactChangeDto[];
}

export class StatusRefDto {
  @ApiProperty({ enum: STATUSES, nullable: true })
  status!: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  effectiveAt!: string | null;
}

export class StatusDiffDto {
  @ApiProperty({ type: StatusRefDto, nullable: true })
  before!: StatusRefDto | null;

  @ApiProperty({ type: StatusRefDto })
  after!: StatusRefDto;
}

export class LinkRefDto {
  @ApiProperty()
  incidentId!: string;

  @ApiProperty({ enum: RELATIONS })
  relation!: string;
}

export class LinksDiffDto {
  @ApiProperty({ type: [LinkRefDto] })
  added!: LinkRefDto[];

  @ApiProperty({ type: [LinkRefDto] })
  removed!: LinkRefDto[];
}

export class DiffDto {
  @ApiProperty({ example: 'storm-0558' })
  incidentId!: string;

  @ApiProperty({ enum: ['knownAt', 'asOf'] })
  axis!: string;

  @ApiProperty({ format: 'date-time' })
  from!: string;

  @ApiProperty({ format: 'date-time' })
  to!: string;

  @ApiProperty({ type: FactsDiffDto })
  facts!: FactsDiffDto;

  @ApiProperty({ type: StatusDiffDto, nullable: true, description: 'null when the status did not change' })
  status!: StatusDiffDto | null;

  @ApiProperty({ type: [FieldChangeDto] })
  details!: FieldChangeDto[];

  @ApiProperty({ type: [FieldChangeDto] })
  impact!: FieldChangeDto[];

  @ApiProperty({ type: LinksDiffDto })
  links!: LinksDiffDto;
}

export class ParkedIncidentDto {
  @ApiProperty()
  incidentId!: string;

  @ApiProperty({ format: 'uuid' })
  eventId!: string;

  @ApiProperty()
  position!: number;

  @ApiProperty()
  error!: string;

  @ApiProperty({ format: 'date-time' })
  parkedAt!: string;
}

export class ParkedListDto {
  @ApiProperty({ type: [ParkedIncidentDto] })
  items!: ParkedIncidentDto[];
}

export class RetriedDto {
  @ApiProperty()
  incidentId!: string;

  @ApiProperty()
  version!: number;

  @ApiProperty()
  position!: number;
}
