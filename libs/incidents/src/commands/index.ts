import { AssessImpactHandler } from './assess-impact.command';
import { ChangeStatusHandler } from './change-status.command';
import { CorrectFactHandler } from './correct-fact.command';
import { LinkIncidentHandler } from './link-incident.command';
import { OpenIncidentHandler } from './open-incident.command';
import { RecordFactHandler } from './record-fact.command';
import { RetractFactHandler } from './retract-fact.command';
import { ReviseIncidentDetailsHandler } from './revise-incident-details.command';

export * from './assess-impact.command';
export * from './change-status.command';
export * from './correct-fact.command';
export * from './link-incident.command';
export * from './open-incident.command';
export * from './record-fact.command';
export * from './retract-fact.command';
export * from './revise-incident-details.command';

export const COMMAND_HANDLERS = [
  OpenIncidentHandler,
  ReviseIncidentDetailsHandler,
  RecordFactHandler,
  CorrectFactHandler,
  RetractFactHandler,
  ChangeStatusHandler,
  AssessImpactHandler,
  LinkIncidentHandler,
];
