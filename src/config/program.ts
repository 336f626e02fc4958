import { Command, CommanderError } from 'commander';
import { version } from '../version';
import { envName, flagName, FLAGS, type FlagSpec } from './flags';

/* The commander program of the CLI: its flags and help text, and its errors as one line naming the flag. */

/** Builds the commander program; output goes to the given sink, and errors throw rather than exit. */
export function program(out: (text: string) => void): Command {
  const cmd = new Command('pistream')
    .description('Stream a Raspberry Pi camera to browsers, with low latency (MPEG-1 or H.264 over WebSocket: JSMpeg, WebCodecs, MSE).')
    .helpOption('-h, --help', 'show this help and exit')
    .version(version, '-v, --version', 'print the version and exit')
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({ writeOut: out, writeErr: out, outputError: () => undefined });
  for (const spec of FLAGS) {
    // On a line of its own, so wrapping never parts a variable from its label.
    const description = `${spec.help}\nenv ${envName(spec.key)}, default ${spec.shown}`;
    if (spec.repeatable) cmd.option(spec.flag, description, (value: string, before?: string) => (before ? `${before},${value}` : value));
    else cmd.option(spec.flag, description);
  }
  cmd.addHelpText(
    'after',
    '\nEvery flag has a PISTREAM_* environment variable; a flag beats the environment.\n' +
      'Booleans in the environment take 1/0, true/false, yes/no.\n' +
      'Then open http://HOST:PORT/ in a browser.',
  );
  return cmd;
}

/** The switch (a flag that takes no value, like `--hflip`) called `name`, if there is one. */
function switchNamed(name: string | undefined): FlagSpec | undefined {
  return FLAGS.find((s) => flagName(s.key) === name && !s.flag.includes('<'));
}

/** What to say about a switch given a value (`--hflip=no`): it takes none, and its variable is the way to say no. */
function switchTakesNoValue(spec: FlagSpec): string {
  return `${flagName(spec.key)} takes no value: give it alone to turn it on, or set ${envName(spec.key)} to ${spec.allowed}`;
}

/** Turns commander's multi-line errors into our one line, naming the flag (`argv` and `operands` for context). */
export function commanderMessage(err: CommanderError, argv: readonly string[], operands: readonly string[]): string {
  const quoted = /'([^']+)'/.exec(err.message)?.[1] ?? '';
  switch (err.code) {
    case 'commander.unknownOption': {
      // `--hflip=no` is not an unknown flag but a switch given a value.
      const eq = quoted.indexOf('=');
      const given = eq > 0 ? switchNamed(quoted.slice(0, eq)) : undefined;
      if (given) return `${switchTakesNoValue(given)}, got ${JSON.stringify(quoted.slice(eq + 1))}`;
      const hint = /Did you mean (\S+?)\?/.exec(err.message)?.[1];
      return `unknown flag ${quoted}${hint ? `; did you mean ${hint}?` : ''} (see --help)`;
    }
    case 'commander.optionMissingArgument': {
      const flag = quoted.split(' ')[0];
      const spec = FLAGS.find((s) => flagName(s.key) === flag);
      return `${flag} needs a value: ${spec?.allowed ?? 'see --help'}`;
    }
    case 'commander.excessArguments': {
      // `--hflip no` reads as the switch and then a stray argument: say which, and why.
      const stray = operands[0];
      const after =
        stray === undefined ? undefined : switchNamed(argv.find((arg, i) => argv[i + 1] === stray && switchNamed(arg) !== undefined));
      if (after) return `${switchTakesNoValue(after)}, got ${JSON.stringify(stray)} after it`;
      // `--token two words`: the stray is likely the rest of a credential, so it is not quoted either.
      const at = stray === undefined ? -1 : argv.indexOf(stray);
      const secret = FLAGS.find((s) => s.secret && (argv[at - 2] === flagName(s.key) || argv[at - 1]?.startsWith(`${flagName(s.key)}=`)));
      if (secret) {
        return (
          `pistream takes only flags, no other arguments, got one right after the value of ${flagName(secret.key)} ` +
          '(not shown: a secret); quote a value that has spaces'
        );
      }
      return `pistream takes only flags, no other arguments${stray === undefined ? '' : `, got ${JSON.stringify(stray)}`} (see --help)`;
    }
    default:
      return err.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ');
  }
}
