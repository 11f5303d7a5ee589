/** One Server-Sent Events message (https://html.spec.whatwg.org/multipage/server-sent-events.html). */
export interface SseMessage {
  id?: string;
  event: string;
  data: string;
}

/**
 * Incremental parser of an event stream: push decoded text as it arrives, get back the complete messages. Comments
 * (heartbeats) are dropped; `retry:` updates `retryMs`.
 */
export class SseParser {
  private buffer = '';
  private id: string | undefined;
  private event = '';
  private data: string[] = [];
  retryMs: number | undefined;

  push(chunk: string): SseMessage[] {
    this.buffer += chunk;
    const messages: SseMessage[] = [];
    let newline = /\r\n|\r|\n/.exec(this.buffer);
    while (newline !== null) {
      const line = this.buffer.slice(0, newline.index);
      // A lone \r at the end may be the first half of \r\n: wait for more text.
      if (newline[0] === '\r' && newline.index === this.buffer.length - 1) break;
      this.buffer = this.buffer.slice(newline.index + newline[0].length);
      const message = this.line(line);
      if (message !== undefined) messages.push(message);
      newline = /\r\n|\r|\n/.exec(this.buffer);
    }
    return messages;
  }

  private line(line: string): SseMessage | undefined {
    if (line === '') {
      if (this.data.length === 0) {
        this.event = '';
        return undefined;
      }
      const message = { id: this.id, event: this.event || 'message', data: this.data.join('\n') };
      this.event = '';
      this.data = [];
      return message;
    }
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
    else if (field === 'id' && !value.includes('\0')) this.id = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.retryMs = Number(value);
    return undefined;
  }
}
