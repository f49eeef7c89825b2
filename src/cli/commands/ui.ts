/**
 * `nanovisor ui`: prints the dashboard's address (`<server>/ui/`, docs/dashboard.md) once the
 * daemon answers, and opens it in the desktop's browser when there is a desktop (DISPLAY or
 * WAYLAND_DISPLAY set, xdg-open present) unless --no-open. The token is never put in the
 * address: the page asks for it (`nanovisor token` prints it).
 */
import { spawn, spawnSync } from 'node:child_process';
import { NanovisorError } from '../../shared/errors.ts';
import { REMOTE_FLAGS, REMOTE_USAGE, clientFromFlags } from '../client.ts';
import type { CliIo, Command } from '../command.ts';
import { flagBool, parseFlags, type FlagSpec } from '../flags.ts';

const USAGE = `Usage: nanovisor ui [--no-open]

Prints the address of the dashboard that \`nanovisor serve\` serves at /ui/ on its API
listener, once the daemon answers, and opens it in the browser when there is a desktop.
Log in with the API token (\`nanovisor token\` prints it). See docs/dashboard.md.

Flags:
  --no-open              only print the address
${REMOTE_USAGE}`;

const SPECS: FlagSpec[] = [...REMOTE_FLAGS, { name: 'no-open', type: 'boolean' }];

/** True when a desktop session can show a browser. */
export function hasDesktop(env: NodeJS.ProcessEnv): boolean {
  return (env['DISPLAY'] ?? '') !== '' || (env['WAYLAND_DISPLAY'] ?? '') !== '';
}

export const uiCommand: Command = {
  name: 'ui',
  usage: USAGE,
  async run(argv: string[], io: CliIo): Promise<number> {
    const p = parseFlags(argv, SPECS, 'ui');
    if (p.positionals.length > 0) throw new NanovisorError('NV_USAGE', 'usage: nanovisor ui [--no-open]');
    const api = clientFromFlags(p, io);
    await api.health(); // NV_API_UNREACHABLE when no daemon answers there
    const url = `${api.config.server}/ui/`;
    io.stdout(`${url}\n`);
    if (!flagBool(p, 'no-open') && hasDesktop(io.env) && spawnSync('xdg-open', ['--version'], { stdio: 'ignore' }).status === 0) {
      const child = spawn('xdg-open', [url], { stdio: 'ignore', detached: true });
      child.on('error', () => {});
      child.unref();
      io.stderr('opened in the browser; log in with the token `nanovisor token` prints\n');
    }
    return 0;
  },
};
