import { CORE, MONITORING, PAGES, PUBLISHING, RECORDINGS, SNAPSHOTS, stopOrder, VIEWERS } from '../../../src/server/plugins/plugin-names';

describe('stopOrder', () => {
  it('stops the viewers before every other part, the recorder and publishers next, the core last', () => {
    expect(stopOrder(VIEWERS).before).toEqual([RECORDINGS, PUBLISHING, CORE]);
    expect(stopOrder(RECORDINGS).before).toEqual([CORE]);
    expect(stopOrder(PUBLISHING).before).toEqual([CORE]);
    expect(stopOrder(CORE).before).toEqual([]);
  });

  it('throws for a part with no stop stage (pages, monitoring and snapshots have nothing to stop)', () => {
    for (const name of [PAGES, MONITORING, SNAPSHOTS, 'pistream-nonesuch'])
      expect(() => stopOrder(name)).toThrow(`${name} has no stop stage`);
  });
});
