import type { INestApplicationContext } from '@nestjs/common';
import { EVENT_STORE, type EventStore } from '@app/event-store';
import { READ_MODELS } from '@app/incidents';
import { reprojectIncident, type ReadModelStore } from '@app/read-models';
import { UsageError, withAppContext, type CliCommand } from '../command-line';

const USAGE = `usage: npm run cli -- projections parked
       npm run cli -- projections retry <incident-id>

parked   list the incidents the projection set aside because one of their events cannot be applied
         (incident, event id, position, error), one per line
retry    fold the incident's stream again; when every event applies, its read models are replaced and it is
         unparked (exit 0); when an event still fails, it stays parked (exit 1)

The same is served over HTTP under incidents:admin: GET /v1/admin/projections/parked and
POST /v1/admin/projections/parked/{id}/retry.
`;

export const projectionsCommand: CliCommand = {
  name: 'projections',
  summary: 'list parked incidents (poison events) or retry one',
  usage: USAGE,
  options: {},
  positionals: true,
  async run(args, config) {
    const [action, incidentId, ...extra] = args.positionals;
    if (action === 'parked' && incidentId === undefined) return withAppContext(config, listParked);
    if (action === 'retry' && incidentId !== undefined && extra.length === 0) {
      return withAppContext(config, (app) => retry(app, incidentId));
    }
    throw new UsageError(
      action === undefined ? 'name an action: parked or retry' : `unexpected arguments: ${args.positionals.join(' ')}`,
    );
  },
};

async function listParked(app: INestApplicationContext): Promise<number> {
  const parked = await app.get<ReadModelStore>(READ_MODELS).parked();
  for (const incident of parked) {
    process.stdout.write(
      `${incident.incidentId}\t${incident.eventId}\t${incident.position}\t${incident.parkedAt}\t${incident.error}\n`,
    );
  }
  if (parked.length === 0) process.stderr.write('no parked incidents\n');
  return 0;
}

async function retry(app: INestApplicationContext, incidentId: string): Promise<number> {
  const readModels = app.get<ReadModelStore>(READ_MODELS);
  const [parked] = await readModels.parked([incidentId]);
  if (parked === undefined) {
    process.stderr.write(`incident ${incidentId} is not parked\n`);
    return 1;
  }
  try {
    const state = await reprojectIncident(app.get<EventStore>(EVENT_STORE), readModels, incidentId);
    process.stdout.write(`unparked ${incidentId} at version ${state.version}\n`);
    return 0;
  } catch (error) {
    process.stderr.write(
      `${incidentId} still cannot be projected: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    return 1;
  }
}
