import { ApiProperty } from '@nestjs/swagger';

export class LiveDto {
  @ApiProperty({ example: 'ok' })
  status!: string;
}

export class ReadyDto {
  @ApiProperty({ enum: ['ready', 'not-ready'] })
  status!: string;

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'object', additionalProperties: true, properties: { ok: { type: 'boolean' } } },
    description: 'One entry per dependency (eventStore, projections, relay), each with ok and details',
  })
  checks!: Record<string, unknown>;
}
