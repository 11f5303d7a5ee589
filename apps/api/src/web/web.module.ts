import { Module } from '@nestjs/common';
import { WebController } from './web.controller';
import { WebBuildFiles } from './web-build';

/** Serves the web page built from apps/web (see docs/web.md). */
@Module({
  controllers: [WebController],
  providers: [{ provide: WebBuildFiles, useFactory: () => new WebBuildFiles() }],
})
export class WebModule {}
