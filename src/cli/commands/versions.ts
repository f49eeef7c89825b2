/** `nanovisor versions <name>`: an app's versions, newest first, the current one marked. */
import { REMOTE_FLAGS, REMOTE_USAGE, clientFromFlags } from '../client.ts';
import type { CliIo, Command } from '../command.ts';
import { flagBool, parseFlags, type FlagSpec } from '../flags.ts';
import { formatAge, shortDigest, table } from './image-format.ts';
import { wantArgs } from './remote-format.ts';

const USAGE = `Usage: nanovisor versions <NAME> [--json]

Lists an app's versions: VERSION DIGEST IMAGE CREATED CHANGES, "*" marking the one serving.
A version is an image and its config (routes, env, secrets, limits, volumes); CHANGES says
what changed from the version before, and \`nanovisor rollback\` restores both.

Flags:
  --json                 print the versions as the API returns them
${REMOTE_USAGE}`;

const SPECS: FlagSpec[] = [...REMOTE_FLAGS, { name: 'json', type: 'boolean' }];

export const versionsCommand: Command = {
  name: 'versions',
  usage: USAGE,
  async run(argv: string[], io: CliIo): Promise<number> {
    const p = parseFlags(argv, SPECS, 'versions');
    wantArgs(p.positionals, 1, 'versions <NAME> [--json]');
    const versions = await clientFromFlags(p, io).versions(p.positionals[0]!);
    if (flagBool(p, 'json')) {
      io.stdout(`${JSON.stringify(versions, null, 2)}\n`);
      return 0;
    }
    const rows = [...versions].sort((a, b) => b.version - a.version).map((v) => [
      `${v.current ? '*' : ' '} ${v.version}`,
      shortDigest(v.digest),
      v.image.version === undefined ? v.image.name : `${v.image.name}:${v.image.version}`,
      formatAge(v.created),
      (v.changes ?? []).join('; ') || (v.version === Math.min(...versions.map((x) => x.version)) ? '(first)' : '(none)'),
    ]);
    io.stdout(table(['  VERSION', 'DIGEST', 'IMAGE', 'CREATED', 'CHANGES'], rows));
    return 0;
  },
};
