/**
 * `nanovisor token [--rotate]`: prints the API token from the token file, or rotates it
 * through the API (the old token stops working at once) and writes the new one to the file.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeTokenFile } from '../../control/index.ts';
import { NanovisorError } from '../../shared/errors.ts';
import { REMOTE_FLAGS, REMOTE_USAGE, clientFromFlags, resolveClientConfig, tokenFilePath } from '../client.ts';
import type { CliIo, Command } from '../command.ts';
import { flagBool, flagString, parseFlags, type FlagSpec } from '../flags.ts';

const USAGE = `Usage: nanovisor token [--rotate]

Prints the API token the remote commands use: --token, else $NANOVISOR_TOKEN, else the
token file <data>/token (data is $NANOVISOR_HOME or ~/.nanovisor; \`nanovisor serve\`
creates it on first start, mode 0600).
With --rotate, asks the daemon for a new token (the old one stops working at once), writes
it to the token file and prints it.

Flags:
  --rotate               replace the token
${REMOTE_USAGE}

Example:
  curl -H "Authorization: Bearer $(nanovisor token)" http://127.0.0.1:7070/v1/apps`;

const SPECS: FlagSpec[] = [...REMOTE_FLAGS, { name: 'rotate', type: 'boolean' }];

export const tokenCommand: Command = {
  name: 'token',
  usage: USAGE,
  async run(argv: string[], io: CliIo): Promise<number> {
    const p = parseFlags(argv, SPECS, 'token');
    if (p.positionals.length > 0) throw new NanovisorError('NV_USAGE', 'usage: nanovisor token [--rotate]');
    if (!flagBool(p, 'rotate')) {
      // The token every remote command would send: --token, else NANOVISOR_TOKEN, else the file.
      const file = tokenFilePath(io.env, io.cwd);
      const { token } = resolveClientConfig({ server: flagString(p, 'server'), token: flagString(p, 'token') }, io.env, io.cwd);
      if (token === undefined) {
        throw new NanovisorError('NV_FILE_NOT_FOUND', `no token file at ${file} (\`nanovisor serve\` creates it on first start; set NANOVISOR_HOME to its data directory)`);
      }
      io.stdout(`${token}\n`);
      return 0;
    }
    const api = clientFromFlags(p, io);
    const { token } = await api.rotateToken();
    mkdirSync(dirname(api.config.tokenFile), { recursive: true, mode: 0o700 });
    writeTokenFile(api.config.tokenFile, token);
    io.stdout(`${token}\n`);
    io.stderr(`rotated: the new token is in ${api.config.tokenFile}; the old one no longer works${api.config.tokenSource === 'env' ? ' (update NANOVISOR_TOKEN)' : ''}\n`);
    return 0;
  },
};
