/** A bad plugin option: `path` names it (`['encoder', 'fps']`), `problem` says what it must be. */
export class PluginOptionsError extends Error {
  constructor(
    readonly path: readonly (string | number)[],
    /** "must be …", without the option's name, so the CLI can put the flag's name in front. */
    readonly problem: string,
  ) {
    super(`pistream plugin options: ${path.length ? `${path.join('.')} ` : ''}${problem}`);
    this.name = 'PluginOptionsError';
  }
}
