import { Injectable, Logger } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { isIncidentId } from '@app/domain';
import type { AuthState } from './principal';

/** One audit record per request. It names the route pattern and the incident, never the raw path, query or headers. */
export interface AuditRecord {
  msg: 'request';
  time: string;
  actor: { iss: string; sub: string } | 'anonymous';
  method: string;
  route: string;
  incidentId?: string;
  status: number;
  outcome: 'completed' | 'aborted';
  correlationId?: string;
  ms: number;
  /** Why authentication failed, for operators; the caller was only told "not valid". */
  authFailure?: string;
}

const INCIDENT_PATH = /^\/v1\/incidents\/([^/]+)/;

/**
 * Writes the audit line of every request, refused ones included: it is installed before any other policy, so a
 * request turned away for its media type, its body or its token still leaves a line. Nothing of the token, the
 * Authorization header or the key material is ever read here.
 */
@Injectable()
export class AuditLog {
  private readonly logger = new Logger('Audit');

  readonly middleware = (request: Request, response: Response, next: NextFunction): void => {
    const started = process.hrtime.bigint();
    let written = false;
    const write = () => {
      if (written) return;
      written = true;
      this.logger.log(auditRecord(request, response, Number(process.hrtime.bigint() - started) / 1e6));
    };
    response.once('finish', write);
    response.once('close', write);
    next();
  };
}

export function auditRecord(request: Request & AuthState & { correlationId?: string }, response: Response, ms: number) {
  const principal = request.principal;
  const record: AuditRecord = {
    msg: 'request',
    time: new Date().toISOString(),
    actor: principal ? { iss: principal.iss, sub: principal.sub } : 'anonymous',
    method: request.method,
    route: (request.route as { path?: string } | undefined)?.path ?? request.refusedRoute ?? 'unmatched',
    status: response.statusCode,
    outcome: response.writableFinished ? 'completed' : 'aborted',
    ms: Math.round(ms),
  };
  const incidentId = targetOf(request);
  if (incidentId !== undefined) record.incidentId = incidentId;
  if (request.correlationId !== undefined) record.correlationId = request.correlationId;
  if (request.authFailure !== undefined) record.authFailure = request.authFailure;
  return record;
}

/** The incident a request is about: from the path, or from the body when it opens one. Only a well-formed id. */
function targetOf(request: Request): string | undefined {
  const fromPath = INCIDENT_PATH.exec(request.path)?.[1];
  const candidate =
    fromPath ??
    (request.method === 'POST' && request.path === '/v1/incidents'
      ? (request.body as { id?: unknown } | undefined)?.id
      : undefined);
  return typeof candidate === 'string' && isIncidentId(candidate) ? candidate : undefined;
}
