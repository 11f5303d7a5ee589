import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { CATEGORIES } from '@app/domain';
import { IsIncidentId, IsPosition } from '../http/validators';

export class FeedQueryDto {
  @ApiPropertyOptional({
    example: '0',
    description:
      'Start after this global position (0 = from the beginning of the log). Without it, and without a ' +
      'Last-Event-ID header, the feed starts at the current end of the log. Last-Event-ID wins when both are given.',
  })
  @IsOptional()
  @IsPosition()
  after?: string;

  @ApiPropertyOptional({ example: 'storm-0558', description: 'Only events of this incident' })
  @IsOptional()
  @IsIncidentId()
  incidentId?: string;

  @ApiPropertyOptional({
    enum: CATEGORIES,
    description: 'Only events of incidents in this category, as recorded at the time of each event',
  })
  @IsOptional()
  @IsIn(CATEGORIES)
  category?: string;
}
