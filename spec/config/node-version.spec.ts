import { nodeVersionProblem } from '../../src/config/node-version';

describe('nodeVersionProblem', () => {
  it.each([
    ['20.0.0', '>=20'],
    ['20.20.2', '>=20'],
    ['22.1.0', '>=20.6'],
    ['20.6.0', '>=20.6.0'],
    ['21.0.0', '>=20.99.99'],
  ])('lets Node.js %s run under engines %s', (running, engines) => {
    expect(nodeVersionProblem(running, engines)).toBeUndefined();
  });

  it.each([
    ['18.19.0', '>=20', '20'],
    ['19.9.0', '>=20', '20'],
    ['20.5.1', '>=20.6', '20.6'],
    ['20.6.0', '>=20.6.1', '20.6.1'],
  ])('refuses Node.js %s under engines %s, naming %s', (running, engines, needed) => {
    expect(nodeVersionProblem(running, engines)).toBe(
      `needs Node.js ${needed} or later; this is Node.js ${running} (the README's "Node.js on a Raspberry Pi" says how to get it)`,
    );
  });

  it('refuses an engines range it cannot read, rather than guess', () => {
    expect(() => nodeVersionProblem('20.0.0', '^20 || ^22')).toThrow('engines.node must read ">=MAJOR[.MINOR[.PATCH]]", got "^20 || ^22"');
  });
});
