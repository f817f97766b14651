// Reads a server-sent events stream from a fetch() response body. The dashboard cannot use EventSource: it cannot
// send an Authorization header, and putting the API key in the URL would leak it into logs and history.

/**
 * Parses the `text/event-stream` format (blocks separated by a blank line, `field: value` lines, `:` comments)
 * until the body ends or `isCurrent()` turns false. Calls `onEvent(type, data)` with each event's JSON data,
 * `onId` with each event id (to resume with `Last-Event-ID`), and `onRetry` with the server's reconnect delay.
 */
export async function readEventStream(body, { isCurrent, onEvent, onId, onRetry }) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done || !isCurrent()) return;
      buffer += value.replaceAll('\r\n', '\n');
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = parseBlock(block, onId, onRetry);
        if (event && isCurrent()) onEvent(event.type, event.data);
      }
    }
  } finally {
    reader.releaseLock();
  }
}

function parseBlock(block, onId, onRetry) {
  let type = 'message';
  let data = '';
  for (const line of block.split('\n')) {
    if (!line || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const text = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') type = text;
    else if (field === 'data') data += (data ? '\n' : '') + text;
    else if (field === 'id') onId(text);
    else if (field === 'retry' && /^\d+$/.test(text)) onRetry(Number(text));
  }
  if (!data) return undefined;
  try {
    const parsed = JSON.parse(data);
    return parsed && typeof parsed === 'object' ? { type, data: parsed } : undefined;
  } catch {
    return undefined; // not ours to fail on: skip it
  }
}
