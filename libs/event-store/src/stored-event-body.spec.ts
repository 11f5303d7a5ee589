import { unreadableBody } from './stored-event-body';

describe('unreadableBody', () => {
  it('accepts JSON objects as data and metadata', () => {
    expect(unreadableBody({ factId: 'f' }, { schemaVersion: 1 })).toBeUndefined();
    expect(unreadableBody({}, {})).toBeUndefined();
  });

  it.each([
    ['a string', '{"factId": "broken', 'stored data is a string, not a JSON object'],
    ['null', null, 'stored data is null, not a JSON object'],
    ['an array', [1], 'stored data is an array, not a JSON object'],
    ['a number', 5, 'stored data is a number, not a JSON object'],
  ])('refuses data that is %s', (_kind, data, reason) => {
    expect(unreadableBody(data, {})).toBe(reason);
  });

  it('refuses metadata that is not an object', () => {
    expect(unreadableBody({}, 'x')).toBe('stored metadata is a string, not a JSON object');
  });
});
