/**
 * The reference for (c): a bare NestJS application with one route that validates a fact exactly as the service does
 * (the same DTO and validation pipe) and answers 201 without storing anything. Run as a child process by the bench.
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { Body, Controller, Get, HttpCode, Module, Param, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { RecordFactDto } from '../apps/api/src/incidents/dto/fact.dto';
import { createValidationPipe } from '../apps/api/src/http/validation';

@Controller()
class BareController {
  private position = 0;

  @Get('health/ready')
  ready() {
    return { status: 'ready' };
  }

  @Post('v1/incidents/:id/facts')
  @HttpCode(201)
  record(@Param('id') id: string, @Body() body: RecordFactDto) {
    this.position += 1;
    return { id, factId: randomUUID(), kind: body.kind, position: this.position };
  }
}

@Module({ controllers: [BareController] })
class BareModule {}

async function main() {
  const app = await NestFactory.create(BareModule, { logger: false });
  app.useGlobalPipes(createValidationPipe());
  await app.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1');
}

void main();
