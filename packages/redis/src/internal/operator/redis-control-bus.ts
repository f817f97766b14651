import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import {
  controlRequestSchema,
  serializeError,
  type ControlReply,
  type ControlReport,
  type ControlRequest,
} from '@celeriac/core';
import type { ControlHandler, ControlHandlerResult, ControlListener, SendControlOptions } from '@celeriac/broker';

/** What the control bus needs from the broker. */
export interface ControlBusContext {
  /** The command connection: publishes commands and replies. */
  readonly connection: Redis;
  /** Opens a connection for subscribing (pub/sub needs one of its own); the broker closes it on close. */
  openSubscriber(): Redis;
  readonly channel: string;
  replyChannel(requestId: string): string;
  /** The ids of the live workers: the ones a command to all workers waits for. */
  liveWorkers(): Promise<readonly string[]>;
}

/** A command on the control channel. */
const controlMessageSchema = z.object({
  requestId: z.string().min(1).max(100),
  workers: z.array(z.string()).optional(),
  request: controlRequestSchema,
});

const replyBodySchema = z.object({
  worker: z.string(),
  ok: z.boolean(),
  result: z.record(z.string(), z.unknown()).optional(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
});

/**
 * Remote control on Redis pub/sub. A command is one JSON message on `<prefix>:_meta:control`, which every worker
 * subscribes to; a worker it addresses applies it and publishes its reply on `<prefix>:_meta:control-reply:<request
 * id>`. The sender subscribes to that channel before publishing the command, so no reply can arrive unheard. One
 * subscriber connection per broker carries every pending request's reply channel.
 */
export class RedisControlBus {
  private subscriber: Promise<Redis> | undefined;
  private readonly pending = new Map<string, (message: string) => void>();

  constructor(private readonly context: ControlBusContext) {}

  async send(request: ControlRequest, options: SendControlOptions): Promise<ControlReport> {
    const requestId = randomUUID();
    const channel = this.context.replyChannel(requestId);
    const subscriber = await this.replySubscriber();
    const expected = new Set(options.workers ?? (await this.context.liveWorkers()));
    const replies = new Map<string, ControlReply>();
    const startedAtMs = Date.now();
    let done: () => void = () => {};
    const finished = new Promise<void>((resolve) => (done = resolve));
    this.pending.set(channel, (message) => {
      const reply = parseJson(message, replyBodySchema);
      // A worker not addressed by id never answers; one that answers twice (a duplicate message) counts once.
      if (!reply || replies.has(reply.worker) || (options.workers && !expected.has(reply.worker))) return;
      replies.set(reply.worker, { ...reply, latencyMs: Date.now() - startedAtMs });
      if ([...expected].every((id) => replies.has(id))) done();
    });
    const timer = setTimeout(done, options.timeoutMs);
    try {
      await subscriber.subscribe(channel);
      const message = { requestId, ...(options.workers ? { workers: options.workers } : {}), request };
      await this.context.connection.publish(this.context.channel, JSON.stringify(message));
      if (expected.size > 0) await finished;
    } finally {
      clearTimeout(timer);
      this.pending.delete(channel);
      await subscriber.unsubscribe(channel).catch(() => undefined);
    }
    return {
      requestId,
      command: request.command,
      replies: [...replies.values()].sort((a, b) => a.worker.localeCompare(b.worker)),
      missing: [...expected].filter((id) => !replies.has(id)).sort(),
    };
  }

  async listen(workerId: string, handler: ControlHandler): Promise<ControlListener> {
    const subscriber = this.context.openSubscriber();
    subscriber.on('error', () => {}); // it reconnects on its own; a command sent meanwhile is missed (at most once)
    subscriber.on('message', (_channel: string, raw: string) => {
      const message = parseJson(raw, controlMessageSchema);
      if (!message || (message.workers && !message.workers.includes(workerId))) return;
      void this.answer(workerId, handler, message.requestId, message.request);
    });
    await subscriber.subscribe(this.context.channel);
    return {
      close: async () => {
        await subscriber.quit().catch(() => subscriber.disconnect());
      },
    };
  }

  private async answer(workerId: string, handler: ControlHandler, requestId: string, request: ControlRequest): Promise<void> {
    let outcome: ControlHandlerResult;
    try {
      outcome = await handler(request);
    } catch (error) {
      const { code, message } = serializeError(error);
      outcome = { ok: false, error: { code, message } };
    }
    const reply = { worker: workerId, ...outcome };
    // Redis away: the sender reports this worker as missing, which is what happened from its side.
    await this.context.connection.publish(this.context.replyChannel(requestId), JSON.stringify(reply)).catch(() => undefined);
  }

  private replySubscriber(): Promise<Redis> {
    this.subscriber ??= (async () => {
      const subscriber = this.context.openSubscriber();
      subscriber.on('error', () => {});
      subscriber.on('message', (channel: string, message: string) => this.pending.get(channel)?.(message));
      return subscriber;
    })();
    return this.subscriber;
  }
}

function parseJson<T>(raw: string, schema: z.ZodType<T>): T | undefined {
  try {
    const parsed = schema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
