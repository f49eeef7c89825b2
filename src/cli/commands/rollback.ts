/** `nanovisor rollback <name> [--to N]`: serve an earlier version again, atomically. */
import { NanovisorError } from '../../shared/errors.ts';
import { REMOTE_FLAGS, REMOTE_USAGE, clientFromFlags } from '../client.ts';
import type { CliIo, Command } from '../command.ts';
import { flagBool, flagString, parseFlags, type FlagSpec } from '../flags.ts';
import { shortDigest } from './image-format.ts';
import { wantArgs } from './remote-format.ts';

const USAGE = `Usage: nanovisor rollback <NAME> [--to VERSION]

Makes an earlier version serve again: VERSION, or without --to the one before the current.
The switch is atomic; requests in flight finish on the version they started on.

Flags:
  --to VERSION           the version to serve (see \`nanovisor versions NAME\`)
  --json                 print {"app","version","digest"} as JSON
${REMOTE_USAGE}`;

const SPECS: FlagSpec[] = [...REMOTE_FLAGS, { name: 'to', type: 'string' }, { name: 'json', type: 'boolean' }];

export const rollbackCommand: Command = {
  name: 'rollback',
  usage: USAGE,
  async run(argv: string[], io: CliIo): Promise<number> {
    const p = parseFlags(argv, SPECS, 'rollback');
    wantArgs(p.positionals, 1, 'rollback <NAME> [--to VERSION]');
    const to = flagString(p, 'to');
    if (to !== undefined && !/^[1-9]\d{0,14}$/.test(to)) throw new NanovisorError('NV_USAGE', `--to "${to}": expected a version number (1, 2, ...)`);
    const name = p.positionals[0]!;
    const r = await clientFromFlags(p, io).rollback(name, to === undefined ? undefined : Number(to));
    if (flagBool(p, 'json')) io.stdout(`${JSON.stringify({ app: name, version: r.version, digest: r.digest })}\n`);
    else io.stdout(`${name} is serving version ${r.version} (${shortDigest(r.digest)})\n`);
    return 0;
  },
};
