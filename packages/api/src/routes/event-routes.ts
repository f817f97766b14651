import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { isTerminalState } from '@celeriac/core';
import type { Broker, EventSubscription, StreamedJobEvent } from '@celeriac/broker';
import type { Client } from '@celeriac/client';
import { endsJobStream, toEventData, toSnapshotData } from '../internal/job-event-data.js';
import { lastEventIdOf, openSseStream, type SseStream } from '../internal/sse-stream.js';
import { errorResponses, jobIdParams } from './http-schemas.js';

/** What the event routes need. */
export interface EventRoutesOptions {
  readonly client: Client;
  readonly broker: Broker;
}

const lastEventIdQuery = z
  .string()
  .max(256)
  .optional()
  .describe('Resume after this event id, for clients that cannot send the `Last-Event-ID` header.');

/** A filter given as repeated parameters (`?queue=a&queue=b`) or a comma-separated list (`?queue=a,b`). */
const listParam = (what: string) =>
  z
    .union([z.string().max(4_096), z.array(z.string().max(4_096)).max(100)])
    .optional()
    .transform((value) => (value === undefined ? [] : [value].flat().flatMap((item) => item.split(',')).filter(Boolean)))
    .describe(`Only events of these ${what}: repeat the parameter, or separate names with commas. Default: all.`);

const streamDescription =
  'Answers `text/event-stream`. Events: `state` (`{ id, queue, task, state, atMs, error? }`), `progress` ' +
  '(`{ ..., progress }`), `log` (`{ ..., line }`) and `removed`. Each carries an `id:`; a client that reconnects ' +
  'with `Last-Event-ID` (EventSource does it on its own) resumes right after it. A comment line every 15 s keeps ' +
  'proxies from closing an idle stream.';

/**
 * `GET /v1/jobs/:id/events`: one job's state changes, progress and log lines, as server-sent events.
 * `GET /v1/events`: every job's events, filtered by queue or task (the dashboard's firehose).
 */
export const eventRoutes: FastifyPluginAsyncZod<EventRoutesOptions> = async (app, { client, broker }) => {
  // Streams never end on their own (the firehose) or may take long: end them when the server closes, so close()
  // does not wait on them, and their clients reconnect to another instance.
  const open = new Set<SseStream>();
  app.addHook('preClose', async () => {
    for (const sse of open) sse.end();
  });
  const openTracked = (reply: FastifyReply, onClose: () => void): SseStream => {
    const sse = openSseStream(reply, () => {
      open.delete(sse);
      onClose();
    });
    open.add(sse);
    return sse;
  };

  app.get(
    '/v1/jobs/:id/events',
    {
      config: { scope: 'read' },
      schema: {
        summary: "Follow one job live: its state, progress and log lines (server-sent events)",
        description:
          `${streamDescription} The stream starts with a \`state\` event marked \`snapshot: true\` (the state now, ` +
          'with progress and the last log lines), so a late subscriber misses nothing final, and ends with an `end` ' +
          'event once the job reached a terminal state or was removed: close the EventSource then, or it reconnects.',
        tags: ['jobs'],
        params: jobIdParams,
        querystring: z.object({ lastEventId: lastEventIdQuery }).strict(),
        response: errorResponses(400, 404, 503),
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const after = lastEventIdOf(request, request.query.lastEventId);
      const first = await client.getJob(id); // 404 as JSON, before the stream starts
      const feed = isTerminalState(first.state)
        ? undefined
        : await subscribeBuffered(broker, { queues: [first.queue], jobId: id, ...(after === undefined ? {} : { after }) });
      // Read after subscribing: whatever happens from here on is in the feed, so nothing falls between the two.
      const snapshot = feed ? await client.getJob(id).catch(async (error: unknown) => {
        await feed.subscription.close();
        throw error;
      }) : first;
      const sse = openTracked(reply, () => void feed?.subscription.close());
      sse.send('state', toSnapshotData(snapshot));
      const finish = (state: string | undefined): void => {
        sse.send('end', { id, ...(state === undefined ? {} : { state }) });
        sse.end();
      };
      if (!feed || isTerminalState(snapshot.state)) finish(snapshot.state);
      else {
        feed.start((event) => {
          sse.send(event.type, toEventData(event), event.cursor);
          if (endsJobStream(event)) finish(event.type === 'state' ? event.state : undefined);
        }, sse);
      }
      return reply;
    },
  );

  app.get(
    '/v1/events',
    {
      config: { scope: 'read' },
      schema: {
        summary: 'Follow every job live, filtered by queue or task (server-sent events)',
        description: `${streamDescription} Queues created after the stream started are followed too.`,
        tags: ['jobs'],
        querystring: z.object({ queue: listParam('queues'), task: listParam('tasks'), lastEventId: lastEventIdQuery }).strict(),
        response: errorResponses(400, 503),
      },
    },
    async (request, reply) => {
      const { queue: queues, task } = request.query;
      const tasks = new Set(task);
      const after = lastEventIdOf(request, request.query.lastEventId);
      const feed = await subscribeBuffered(broker, {
        ...(queues.length > 0 ? { queues } : {}),
        ...(after === undefined ? {} : { after }),
      });
      const sse = openTracked(reply, () => void feed.subscription.close());
      feed.start((event) => {
        // Events of a job that was already gone when read carry no task: with a task filter, they cannot match.
        if (tasks.size > 0 && (event.task === undefined || !tasks.has(event.task))) return;
        sse.send(event.type, toEventData(event), event.cursor);
      }, sse);
      return reply;
    },
  );
};

/** A subscription whose events wait in a buffer until the stream they go to has started. */
interface BufferedFeed {
  readonly subscription: EventSubscription;
  start(deliver: (event: StreamedJobEvent) => void, sse: SseStream): void;
}

async function subscribeBuffered(
  broker: Broker,
  options: Parameters<Broker['subscribeEvents']>[0],
): Promise<BufferedFeed> {
  let deliver: ((event: StreamedJobEvent) => void) | undefined;
  const buffered: StreamedJobEvent[] = [];
  const subscription = await broker.subscribeEvents(options, (event) => {
    if (deliver) deliver(event);
    else buffered.push(event);
  });
  return {
    subscription,
    start(next, sse) {
      for (const event of buffered.splice(0)) {
        if (sse.closed) return;
        next(event);
      }
      deliver = (event) => {
        if (!sse.closed) next(event);
      };
    },
  };
}
