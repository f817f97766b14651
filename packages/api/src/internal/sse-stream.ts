import { PassThrough } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** How often an idle stream sends a comment line, so proxies and load balancers keep the connection open. */
export const sseHeartbeatMs = 15_000;
/** How long a browser's EventSource waits before it reconnects, sent once at the start of every stream. */
const retryMs = 2_000;

/** A server-sent events stream being written; see {@link openSseStream}. */
export interface SseStream {
  /** Writes one event: its type, its data as JSON, and its id (for `Last-Event-ID`) when it has one. */
  send(event: string, data: unknown, id?: string): void;
  /** Ends the stream (the client sees the response end). Safe to call more than once. */
  end(): void;
  /** Whether the stream has ended, by {@link end} or because the client went away. */
  readonly closed: boolean;
}

/**
 * Starts a `text/event-stream` answer and returns its writer. The response goes through Fastify (`reply.send` of
 * a stream), so its hooks still run: security headers, CORS and the request log see it as any other answer.
 * `onClose` runs once, when the stream ends for any reason: the client disconnected (the socket closed), or
 * {@link SseStream.end} was called. That is where callers release what the stream held (its Redis subscription).
 */
export function openSseStream(reply: FastifyReply, onClose: () => void): SseStream {
  const stream = new PassThrough();
  let closed = false;
  const heartbeat = setInterval(() => stream.write(': keep-alive\n\n'), sseHeartbeatMs);
  const close = (): void => {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    // Ended in every case: an unended response keeps its connection busy, and the server's close() waits for it.
    if (!stream.writableEnded) stream.end();
    onClose();
  };
  stream.on('close', close);
  // The response closes when it ends, and when the client goes away first (Fastify then destroys the stream too).
  reply.raw.once('close', close);
  reply
    .header('content-type', 'text/event-stream; charset=utf-8')
    .header('cache-control', 'no-cache, no-transform')
    // nginx buffers responses unless told not to; a buffered event stream arrives in lumps, or never.
    .header('x-accel-buffering', 'no')
    .send(stream);
  stream.write(`retry: ${retryMs}\n\n`);
  return {
    send(event, data, id) {
      if (closed) return;
      const idLine = id === undefined ? '' : `id: ${id}\n`;
      // JSON never contains a raw newline, so one `data:` line carries the whole payload.
      stream.write(`event: ${event}\n${idLine}data: ${JSON.stringify(data)}\n\n`);
    },
    end: close,
    get closed() {
      return closed;
    },
  };
}

/**
 * Where a reconnecting client wants to resume: the `Last-Event-ID` header (sent by EventSource on its own), or the
 * `lastEventId` query parameter for clients that cannot set headers on a reconnect.
 */
export function lastEventIdOf(request: FastifyRequest, fromQuery: string | undefined): string | undefined {
  const header = request.headers['last-event-id'];
  const value = (Array.isArray(header) ? header[0] : header) ?? fromQuery;
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}
