import type { HttpRequest as Request, HttpResponse as Response } from '@park/service-kit';
import type { Pool } from 'pg';

/**
 * Tells open dashboards that the projections advanced, so that they fetch what they show again.
 *
 * Server-sent events rather than polling by the page: one cheap query per interval for the whole
 * process (the sum of the active versions' checkpoints, which every replica moves in the shared
 * database) instead of every page re-running its reports on a timer, and a page updates within
 * seconds of the data without asking for anything while nothing changes. The events carry no
 * data of their own, only that something changed: what a page may see is decided where it
 * fetches it, with its own token and the API's rules. The page reads the stream with fetch (not
 * EventSource, which cannot send the bearer token but in the URL, where it would be logged).
 */
export class ProjectionChanges {
  /** Open streams and their keep-alive timers. */
  private readonly streams = new Map<Response, NodeJS.Timeout>();
  private timer?: NodeJS.Timeout;
  private polling?: Promise<void>;
  private position = '';
  private closed = false;

  constructor(
    private readonly pool: Pool,
    private readonly activeSchemas: () => Promise<Record<string, string>>,
    private readonly intervalMs = 2_000,
    private readonly heartbeatMs = 15_000,
  ) {}

  /** Where the projections stand: their active versions and the sum of their checkpoints. */
  async current(): Promise<string> {
    const schemas = Object.values(await this.activeSchemas()).sort();
    const sums = schemas
      .map((schema) => `(SELECT coalesce(sum(next_offset), 0) FROM ${schema}.checkpoints)`)
      .join(' + ');
    const { rows } = await this.pool.query<{ total: string }>(`SELECT (${sums})::text AS total`);
    return `${schemas.join(',')}@${rows[0]!.total}`;
  }

  /** Serves one page's stream: an event now, then one whenever the projections advance. */
  async stream(request: Request, response: Response): Promise<void> {
    if (this.closed) {
      response.status(503).end();
      return;
    }
    // While no stream was open nobody polled: where things stand now, not when the last one closed.
    if (!this.timer) this.position = await this.current();
    response.status(200).set({
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      'X-Accel-Buffering': 'no',
    });
    response.flushHeaders();
    response.write(`retry: 5000\n\n`);
    send(response, this.position);
    const heartbeat = setInterval(() => response.write(': keep-alive\n\n'), this.heartbeatMs);
    heartbeat.unref();
    this.streams.set(response, heartbeat);
    request.on('close', () => this.forget(response));
    if (!this.timer) {
      this.timer = setInterval(() => {
        this.polling ??= this.poll().finally(() => (this.polling = undefined));
      }, this.intervalMs);
      this.timer.unref();
    }
  }

  private async poll(): Promise<void> {
    try {
      const position = await this.current();
      if (position === this.position) return;
      this.position = position;
      for (const response of this.streams.keys()) send(response, position);
    } catch {
      // A failed poll (a version switching, the database restarting): the next one tries again.
    }
  }

  private forget(response: Response): void {
    clearInterval(this.streams.get(response));
    this.streams.delete(response);
    if (this.streams.size === 0) this.pause();
  }

  private pause(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Ends every stream (at shutdown: the HTTP server waits for open responses). */
  close(): void {
    this.closed = true;
    for (const response of [...this.streams.keys()]) {
      this.forget(response);
      response.end();
    }
  }
}

function send(response: Response, position: string): void {
  response.write(`event: projections\ndata: ${JSON.stringify({ position })}\n\n`);
}
