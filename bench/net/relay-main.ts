// The relay as its own process, started by netns.ts inside the link's relay namespace (`ip netns exec`):
//   node -r ts-node/register/transpile-only bench/net/relay-main.ts '<RelayOptions as JSON>'
// It prints `relay ready` once every port listens, then takes one command a line on stdin:
//   outage <ms>                 the link is down both ways for <ms>
//   impair <{down, up} as JSON>  new impairments from now on
//   counts                       prints `counts <RelayCounts as JSON>`
//   log                          prints `log <the connection log's lines as a JSON array>`
// and exits when stdin ends (its parent is gone: no orphan relay) or on SIGTERM/SIGINT.
import { createInterface } from 'node:readline';
import { startRelay, type RelayOptions } from './relay';

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '') as RelayOptions;
  const relay = await startRelay(options);
  const stop = (): void => {
    void relay.close().finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    const [command, ...rest] = line.trim().split(' ');
    const arg = rest.join(' ');
    if (command === 'outage') relay.outage(Number(arg));
    else if (command === 'impair') {
      const { down, up } = JSON.parse(arg) as Pick<RelayOptions, 'down' | 'up'>;
      relay.impair(down, up);
    } else if (command === 'counts') process.stdout.write(`counts ${JSON.stringify(relay.counts)}\n`);
    else if (command === 'log') process.stdout.write(`log ${JSON.stringify(relay.connectionLog())}\n`);
    else process.stderr.write(`relay: unknown command ${JSON.stringify(line)}\n`);
  });
  lines.on('close', stop);
  process.stdout.write('relay ready\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`relay: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
