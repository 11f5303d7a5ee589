import { GetDiffHandler } from './get-diff.query';
import { GetEventsHandler } from './get-events.query';
import { GetHistoryHandler } from './get-history.query';
import { GetIncidentHandler } from './get-incident.query';
import { GetStatusHistoryHandler } from './get-status-history.query';
import { GetTimelineHandler } from './get-timeline.query';
import { ListIncidentsHandler } from './list-incidents.query';

export * from './get-diff.query';
export * from './get-events.query';
export * from './get-history.query';
export * from './get-incident.query';
export * from './get-status-history.query';
export * from './get-timeline.query';
export * from './history';
export * from './incident-views.service';
export * from './list-incidents.query';
export * from './point-in-time';

export const QUERY_HANDLERS = [
  GetIncidentHandler,
  GetTimelineHandler,
  ListIncidentsHandler,
  GetStatusHistoryHandler,
  GetHistoryHandler,
  GetEventsHandler,
  GetDiffHandler,
];
