/** `nanovisor rm <name>...`: delete apps (their routes stop at once; versions and logs go). */
import { NanovisorError } from '../../shared/errors.ts';
import { REMOTE_FLAGS, REMOTE_USAGE, clientFromFlags } from '../client.ts';
import type { CliIo, Command } from '../command.ts';
import { parseFlags, type FlagSpec } from '../flags.ts';

const USAGE = `Usage: nanovisor rm <NAME> [NAME...]

Deletes apps: their routes stop serving at once (requests in flight finish), their
versions, secrets and request logs are removed.

Flags:
${REMOTE_USAGE}`;

const SPECS: FlagSpec[] = [...REMOTE_FLAGS];

export const rmCommand: Command = {
  name: 'rm',
  usage: USAGE,
  async run(argv: string[], io: CliIo): Promise<number> {
    const p = parseFlags(argv, SPECS, 'rm');
    if (p.positionals.length === 0) throw new NanovisorError('NV_USAGE', 'usage: nanovisor rm <NAME> [NAME...]');
    const api = clientFromFlags(p, io);
    for (const name of p.positionals) {
      await api.deleteApp(name);
      io.stdout(`removed ${name}\n`);
    }
    return 0;
  },
};
