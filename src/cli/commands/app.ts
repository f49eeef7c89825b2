/** `nanovisor app <name>`: one app in detail. Secrets are shown by name only, never by value. */
import { formatSize } from './image-format.ts';
import { REMOTE_FLAGS, REMOTE_USAGE, clientFromFlags, routeText, type AppView } from '../client.ts';
import type { CliIo, Command } from '../command.ts';
import { flagBool, parseFlags, type FlagSpec } from '../flags.ts';
import { formatDuration, wantArgs } from './remote-format.ts';

const USAGE = `Usage: nanovisor app <NAME> [--json]

Shows one app: current version and image, routes, env, secret names (values are
write-only and never shown), limits, and when it was created and updated.

Flags:
  --json                 print the app as the API returns it
${REMOTE_USAGE}`;

const SPECS: FlagSpec[] = [...REMOTE_FLAGS, { name: 'json', type: 'boolean' }];

export const appCommand: Command = {
  name: 'app',
  usage: USAGE,
  async run(argv: string[], io: CliIo): Promise<number> {
    const p = parseFlags(argv, SPECS, 'app');
    wantArgs(p.positionals, 1, 'app <NAME> [--json]');
    const a = await clientFromFlags(p, io).getApp(p.positionals[0]!);
    if (flagBool(p, 'json')) {
      io.stdout(`${JSON.stringify(a, null, 2)}\n`);
      return 0;
    }
    const l = a.limits;
    const limits = [
      l.memoryBytes === undefined ? undefined : `memory ${formatSize(l.memoryBytes)}`,
      l.timeoutMs === undefined ? undefined : `timeout ${formatDuration(l.timeoutMs)}`,
      `concurrency ${l.concurrency}`,
      `queue ${l.queue}`,
      l.maxBodyBytes === undefined ? undefined : `body ${formatSize(l.maxBodyBytes)}`,
    ].filter((x) => x !== undefined);
    const env = Object.entries(a.env).map(([k, v]) => `${k}=${v}`);
    const rows: [string, string][] = [
      ['name', a.name],
      ['version', a.currentVersion === null ? '- (not deployed)' : `${a.currentVersion} (${a.currentDigest})`],
      ...(a.status === 'broken' ? [['status', `BROKEN: ${a.problem ?? 'its image cannot be loaded'}`] as [string, string]] : []),
      ...(a.instance === undefined ? [] : [['instance', instanceText(a.instance)] as [string, string]]),
      ['routes', a.routes.map(routeText).join(', ')],
      ['env', env.length === 0 ? '-' : env.join(' ')],
      ['secrets', a.secrets.length === 0 ? '-' : `${a.secrets.join(' ')} (values are never shown)`],
      ['limits', limits.join(', ')],
      ['created', a.created],
      ['updated', a.updated],
    ];
    io.stdout(rows.map(([k, v]) => `${`${k}:`.padEnd(10)}${v}\n`).join(''));
    return 0;
  },
};

/** A server app's instance on one line: `asleep (2 sleeps, 1 wake, last wake 540ms)`. */
function instanceText(i: NonNullable<AppView['instance']>): string {
  const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
  const facts = [plural(i.sleeps, 'sleep'), plural(i.wakes, 'wake')];
  if (i.lastWakeMs !== null) facts.push(`last wake ${formatDuration(i.lastWakeMs)}`);
  if (i.buffered > 0) facts.push(`${i.buffered} waiting`);
  return `${i.state} (${facts.join(', ')})`;
}
