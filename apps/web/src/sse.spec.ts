import { SseParser } from './sse';

describe('SseParser', () => {
  it('yields a message per blank line, with its id, event and data, whatever the chunking', () => {
    const stream =
      'retry: 3000\n\nid: 7\nevent: KeyCaptured\ndata: {"a":1}\n\n: heartbeat\n\nid: 8\ndata: x\ndata: y\r\n\r\n';
    for (const size of [1, 3, stream.length]) {
      const parser = new SseParser();
      const messages = [];
      for (let i = 0; i < stream.length; i += size) messages.push(...parser.push(stream.slice(i, i + size)));
      expect(messages).toEqual([
        { id: '7', event: 'KeyCaptured', data: '{"a":1}' },
        { id: '8', event: 'message', data: 'x\ny' },
      ]);
      expect(parser.retryMs).toBe(3000);
    }
  });

  it('holds back a message until its closing blank line arrives', () => {
    const parser = new SseParser();
    expect(parser.push('id: 1\ndata: partial\n')).toEqual([]);
    expect(parser.push('\n')).toEqual([{ id: '1', event: 'message', data: 'partial' }]);
  });
});
