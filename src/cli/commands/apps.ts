/** `nanovisor apps`: the daemon's apps as a table (NAME VERSION ROUTES IMAGE), or JSON. */
import { NanovisorError } from '../../shared/errors.ts';
import { REMOTE_FLAGS, REMOTE_USAGE, clientFromFlags, routeText } from '../client.ts';
import type { CliIo, Command } from '../command.ts';
import { flagBool, parseFlags, type FlagSpec } from '../flags.ts';
import { shortDigest, table } from './image-format.ts';

const USAGE = `Usage: nanovisor apps [--json]

Lists the daemon's apps: NAME VERSION ROUTES IMAGE (the current version's digest).

Flags:
  --json                 print the apps as the API returns them (secret names, never values)
${REMOTE_USAGE}`;

const SPECS: FlagSpec[] = [...REMOTE_FLAGS, { name: 'json', type: 'boolean' }];

export const appsCommand: Command = {
  name: 'apps',
  usage: USAGE,
  async run(argv: string[], io: CliIo): Promise<number> {
    const p = parseFlags(argv, SPECS, 'apps');
    if (p.positionals.length > 0) throw new NanovisorError('NV_USAGE', 'usage: nanovisor apps [--json]');
    const apps = await clientFromFlags(p, io).listApps();
    if (flagBool(p, 'json')) {
      io.stdout(`${JSON.stringify(apps, null, 2)}\n`);
      return 0;
    }
    const rows = apps.map((a) => [
      a.name,
      a.currentVersion === null ? '-' : a.status === 'broken' ? `${a.currentVersion} BROKEN` : String(a.currentVersion),
      a.routes.map(routeText).join(','),
      a.currentDigest === null ? '-' : shortDigest(a.currentDigest),
    ]);
    io.stdout(table(['NAME', 'VERSION', 'ROUTES', 'IMAGE'], rows));
    return 0;
  },
};
