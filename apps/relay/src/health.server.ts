import { createServer, type Server } from 'node:http';
import type { Relay } from '@app/feeds';
import type { Metrics } from '@app/observability';

/**
 * The relay process serves no API, only what an orchestrator and Prometheus need: GET /health/live,
 * GET /health/ready (200 when the relay publishes and keeps up, or stands by; 503 with the reason otherwise) and
 * GET /metrics. Nothing here reads input beyond the path.
 */
export function createHealthServer(relay: Relay, metrics: Metrics, maxLag: number): Server {
  return createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    const send = (status: number, type: string, body: string) => {
      response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      response.end(body);
    };
    const json = (status: number, body: unknown) => send(status, 'application/json', JSON.stringify(body));
    if (request.method !== 'GET' && request.method !== 'HEAD') return json(405, { status: 'method not allowed' });
    if (path === '/health/live') return json(200, { status: 'ok' });
    if (path === '/health/ready') {
      void relay.health(maxLag).then(
        (relayCheck) => {
          if (!relayCheck.ok) response.setHeader('retry-after', '5');
          json(relayCheck.ok ? 200 : 503, {
            status: relayCheck.ok ? 'ready' : 'not-ready',
            checks: { relay: relayCheck },
          });
        },
        () => json(503, { status: 'not-ready', checks: { relay: { ok: false, detail: 'check failed' } } }),
      );
      return;
    }
    if (path === '/metrics') {
      void metrics.registry.metrics().then(
        (text) => send(200, 'text/plain; version=0.0.4; charset=utf-8', text),
        () => send(500, 'text/plain', 'metrics unavailable\n'),
      );
      return;
    }
    json(404, { status: 'not found' });
  });
}
