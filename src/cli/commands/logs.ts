/**
 * `nanovisor logs <name> [-f] [--since N]`: an app's request log — one line per request
 * (time, request id, status, duration), the guest's stderr indented below it.
 */
import { NanovisorError } from '../../shared/errors.ts';
import { REMOTE_FLAGS, REMOTE_USAGE, clientFromFlags } from '../client.ts';
import type { CliIo, Command } from '../command.ts';
import { flagBool, flagString, parseFlags, type FlagSpec } from '../flags.ts';
import { formatLogEntry, wantArgs } from './remote-format.ts';

const USAGE = `Usage: nanovisor logs <NAME> [-f] [--since SEQ] [--json]

Shows an app's request log: for each request its time, request id, status, duration,
method and URL, then the error and the guest's stderr (redacted of the app's secrets,
capped per request). Without --since: the newest entries.

Flags:
  -f, --follow           keep printing new requests as they finish (Ctrl-C stops)
  --since SEQ            only entries after sequence number SEQ (each entry's "seq")
  --json                 print the raw entries, one JSON object per line
${REMOTE_USAGE}

Example:
  nanovisor logs echo -f`;

const SPECS: FlagSpec[] = [
  ...REMOTE_FLAGS,
  { name: 'follow', short: 'f', type: 'boolean' },
  { name: 'since', type: 'string' },
  { name: 'json', type: 'boolean' },
];

export const logsCommand: Command = {
  name: 'logs',
  usage: USAGE,
  async run(argv: string[], io: CliIo): Promise<number> {
    const p = parseFlags(argv, SPECS, 'logs');
    wantArgs(p.positionals, 1, 'logs <NAME> [-f] [--since SEQ]');
    const sinceText = flagString(p, 'since');
    if (sinceText !== undefined && !/^\d{1,15}$/.test(sinceText)) throw new NanovisorError('NV_USAGE', `--since "${sinceText}": expected a sequence number`);
    const json = flagBool(p, 'json');
    const entries = clientFromFlags(p, io).logs(p.positionals[0]!, {
      follow: flagBool(p, 'follow'),
      ...(sinceText === undefined ? {} : { since: Number(sinceText) }),
    });
    for await (const e of entries) io.stdout(json ? `${JSON.stringify(e)}\n` : formatLogEntry(e));
    return 0;
  },
};
