import type { Api } from './api';
import { followIncident, type FeedEvent, type FeedState } from './live-feed';

/** A feed server in a function: each connection gets the next scripted body, then the stream ends (a drop). */
function scriptedFeed(bodies: string[]) {
  const requests: { path: string; headers: Record<string, string> }[] = [];
  const api: Api = {
    get: () => Promise.reject(new Error('not used')),
    send: () => Promise.reject(new Error('not used')),
    stream: async (path, headers) => {
      requests.push({ path, headers });
      const body = bodies.shift();
      if (body === undefined) return new Promise<Response>(() => undefined);
      return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } });
    },
  };
  return { api, requests };
}

const frame = (id: number, type: string) =>
  `id: ${id}\nevent: ${type}\ndata: ${JSON.stringify({ type, incidentId: 'storm-0558', position: id })}\n\n`;

describe('followIncident (the live feed over fetch)', () => {
  it('delivers events, and after a dropped connection resumes from the last id with Last-Event-ID', async () => {
    const { api, requests } = scriptedFeed([
      `retry: 5\n\n${frame(41, 'KeyCaptured')}${frame(42, 'FactCorrected')}`,
      frame(43, 'IncidentStatusChanged'),
    ]);
    const events: FeedEvent[] = [];
    const states: FeedState[] = [];
    let opened = 0;
    let stop = () => undefined as void;
    await new Promise<void>((resolve) => {
      stop = followIncident(api, 'storm-0558', {
        onOpen: () => (opened += 1),
        onState: (state) => states.push(state),
        onEvent: (event) => {
          events.push(event);
          if (event.id === '43') resolve();
        },
      });
    });
    stop();
    expect(events.map((event) => [event.id, event.type])).toEqual([
      ['41', 'KeyCaptured'],
      ['42', 'FactCorrected'],
      ['43', 'IncidentStatusChanged'],
    ]);
    expect(requests[0]).toEqual({ path: '/v1/feeds/events?incidentId=storm-0558', headers: {} });
    expect(requests[1].headers).toEqual({ 'last-event-id': '42' });
    expect(opened).toBe(2);
    expect(states).toEqual(['connecting', 'live', 'reconnecting', 'reconnecting', 'live']);
  });
});
