/**
 * `nanovisor volume create | ls | inspect | resize | rm | snapshot | snapshots | restore |
 * export | import`: the daemon's volumes (the storage
 * switch, docs/volumes.md), through the API. A data-directory volume's files are deleted
 * only by `rm --delete-data`; an operator hostPath keeps its files whatever happens.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { NanovisorError } from '../../shared/errors.ts';
import { ACCESS_MODES, type AccessMode } from '../../shared/volumes.ts';
import { REMOTE_FLAGS, REMOTE_USAGE, clientFromFlags, type ApiClient, type UpdateVolume, type VolumeView } from '../client.ts';
import type { CliIo, Command } from '../command.ts';
import { flagBool, flagString, parseFlags, parseSize, type FlagSpec, type ParsedFlags } from '../flags.ts';
import { formatSize, table } from './image-format.ts';

const USAGE = `Usage: nanovisor volume <subcommand> [flags]

Subcommands:
  create NAME [--size SIZE] [--files N] [--access shared|exclusive] [--host-path DIR]
                                 make a volume: in <data>/volumes/NAME, or at DIR (inside a
                                 root the daemon allows: serve --volume-root)
  ls [--json]                    list volumes: NAME ACCESS USED QUOTA FILES APPS
  inspect NAME                   print one volume as JSON (usage, apps that mount it)
  resize NAME [--size SIZE] [--files N] [--access shared|exclusive]
                                 change its quotas (or access mode)
  rm NAME [--delete-data]        delete a volume no app mounts; one that holds files needs
                                 --delete-data, which deletes them (an operator --host-path
                                 directory keeps its files)
  snapshot NAME [SNAP]           take a point-in-time copy (an exclusive volume's between two
                                 of its VMs); SNAP defaults to one made from the time
  snapshots NAME [--json]        list its snapshots: SNAPSHOT SIZE FILES CREATED
  snapshot-rm NAME SNAP          delete a snapshot
  restore NAME SNAP [--into NEW] put a snapshot back over the volume, or into a new volume NEW
  export NAME -o FILE [--snapshot SNAP]
                                 write the volume (or a snapshot) as a tar
  import NAME FILE               fill an empty volume from such a tar

Flags:
  --size SIZE                    quota in bytes, e.g. 64M, 10G (default 1G)
  --files N                      quota of entries: files, directories, symlinks (default 100000)
  --access MODE                  shared (default): VMs mount it at once; exclusive: one VM
                                 at a time (queued before boot)
  --host-path DIR                an operator directory instead of the data directory
  --into NEW                     restore into a new volume instead of over NAME
  -o, --output FILE              where export writes the tar
  --snapshot SNAP                export this snapshot instead of the volume as it is now
  --json                         print what the API returns
${REMOTE_USAGE}

Attach a volume to an app: nanovisor deploy DIR --volume NAME:/data[:ro]. See docs/volumes.md.`;

const SPECS: FlagSpec[] = [
  ...REMOTE_FLAGS,
  { name: 'size', type: 'string' },
  { name: 'files', type: 'string' },
  { name: 'access', type: 'string' },
  { name: 'host-path', type: 'string' },
  { name: 'delete-data', type: 'boolean' },
  { name: 'json', type: 'boolean' },
  { name: 'into', type: 'string' },
  { name: 'output', short: 'o', type: 'string' },
  { name: 'snapshot', type: 'string' },
];

type Sub = (api: ApiClient, args: string[], p: ParsedFlags, io: CliIo) => Promise<number>;

function want(args: string[], n: number | [number, number], usage: string): void {
  const [min, max] = typeof n === 'number' ? [n, n] : n;
  if (args.length < min || args.length > max) throw new NanovisorError('NV_USAGE', `usage: nanovisor volume ${usage}`);
}

function access(p: ParsedFlags): AccessMode | undefined {
  const a = flagString(p, 'access');
  if (a === undefined) return undefined;
  if (!(ACCESS_MODES as readonly string[]).includes(a)) throw new NanovisorError('NV_USAGE', `--access "${a}": expected shared or exclusive`);
  return a as AccessMode;
}

function files(p: ParsedFlags): number | undefined {
  const f = flagString(p, 'files');
  if (f === undefined) return undefined;
  if (!/^\d+$/.test(f) || Number(f) < 1) throw new NanovisorError('NV_USAGE', `--files "${f}": expected a whole number of entries, at least 1`);
  return Number(f);
}

function quotas(p: ParsedFlags): UpdateVolume {
  const size = flagString(p, 'size');
  const f = files(p);
  const a = access(p);
  return {
    ...(size === undefined ? {} : { quotaBytes: parseSize(size, 'size') }),
    ...(f === undefined ? {} : { quotaFiles: f }),
    ...(a === undefined ? {} : { access: a }),
  };
}

function usage(v: VolumeView): string {
  return `${formatSize(v.usedBytes)} / ${formatSize(v.quotaBytes)}`;
}

function show(v: VolumeView, io: CliIo): void {
  io.stdout(`${JSON.stringify(v, null, 2)}\n`);
}

const SUBCOMMANDS: Record<string, Sub> = {
  async create(api, args, p, io) {
    want(args, 1, 'create NAME [--size SIZE] [--files N] [--access shared|exclusive] [--host-path DIR]');
    const hostPath = flagString(p, 'host-path');
    const v = await api.createVolume({ name: args[0]!, ...quotas(p), ...(hostPath === undefined ? {} : { hostPath }) });
    if (flagBool(p, 'json')) show(v, io);
    else io.stdout(`created volume ${v.name} (${v.access}, ${formatSize(v.quotaBytes)}, ${v.quotaFiles} files${v.hostPath === undefined ? '' : `, at ${v.hostPath}`})\n`);
    return 0;
  },
  async ls(api, args, p, io) {
    want(args, 0, 'ls [--json]');
    const vols = await api.listVolumes();
    if (flagBool(p, 'json')) {
      io.stdout(`${JSON.stringify(vols, null, 2)}\n`);
      return 0;
    }
    io.stdout(table(['NAME', 'ACCESS', 'USED', 'FILES', 'APPS'], vols.map((v) => [
      v.name, v.access, usage(v), `${v.usedFiles} / ${v.quotaFiles}`, v.apps.length === 0 ? '-' : v.apps.join(','),
    ])));
    return 0;
  },
  async inspect(api, args, _p, io) {
    want(args, 1, 'inspect NAME');
    show(await api.getVolume(args[0]!), io);
    return 0;
  },
  async resize(api, args, p, io) {
    want(args, 1, 'resize NAME [--size SIZE] [--files N] [--access shared|exclusive]');
    const patch = quotas(p);
    if (Object.keys(patch).length === 0) throw new NanovisorError('NV_USAGE', 'volume resize: give --size, --files or --access');
    const v = await api.updateVolume(args[0]!, patch);
    if (flagBool(p, 'json')) show(v, io);
    else io.stdout(`volume ${v.name}: ${v.access}, ${usage(v)}, ${v.usedFiles} / ${v.quotaFiles} files\n`);
    return 0;
  },
  async rm(api, args, p, io) {
    want(args, 1, 'rm NAME [--delete-data]');
    const r = await api.deleteVolume(args[0]!, flagBool(p, 'delete-data'));
    if (flagBool(p, 'json')) io.stdout(`${JSON.stringify(r)}\n`);
    else io.stdout(`deleted volume ${r.deleted}${r.dataDeleted ? ' and its files' : r.keptAt === undefined ? ' (it held no files)' : `; its files stay in ${r.keptAt}`}\n`);
    return 0;
  },
  async snapshot(api, args, p, io) {
    want(args, [1, 2], 'snapshot NAME [SNAP]');
    const s = await api.snapshotVolume(args[0]!, args[1]);
    if (flagBool(p, 'json')) io.stdout(`${JSON.stringify(s)}\n`);
    else io.stdout(`snapshot ${s.volume}/${s.name}: ${formatSize(s.bytes)}, ${s.files} files\n`);
    return 0;
  },
  async snapshots(api, args, p, io) {
    want(args, 1, 'snapshots NAME [--json]');
    const list = await api.listSnapshots(args[0]!);
    if (flagBool(p, 'json')) io.stdout(`${JSON.stringify(list, null, 2)}\n`);
    else io.stdout(table(['SNAPSHOT', 'SIZE', 'FILES', 'CREATED'], list.map((s) => [s.name, formatSize(s.bytes), String(s.files), s.created])));
    return 0;
  },
  async 'snapshot-rm'(api, args, _p, io) {
    want(args, 2, 'snapshot-rm NAME SNAP');
    await api.deleteSnapshot(args[0]!, args[1]!);
    io.stdout(`deleted snapshot ${args[0]}/${args[1]}\n`);
    return 0;
  },
  async restore(api, args, p, io) {
    want(args, 2, 'restore NAME SNAP [--into NEW]');
    const v = await api.restoreVolume(args[0]!, args[1]!, flagString(p, 'into'));
    if (flagBool(p, 'json')) show(v, io);
    else io.stdout(`restored ${args[0]}/${args[1]} into volume ${v.name}: ${formatSize(v.usedBytes)}, ${v.usedFiles} files\n`);
    return 0;
  },
  async export(api, args, p, io) {
    want(args, 1, 'export NAME -o FILE [--snapshot SNAP]');
    const out = flagString(p, 'output');
    if (out === undefined) throw new NanovisorError('NV_USAGE', 'volume export: give -o FILE');
    const tar = await api.exportVolume(args[0]!, flagString(p, 'snapshot'));
    writeFileSync(resolve(io.cwd, out), tar);
    io.stdout(`wrote ${out} (${formatSize(tar.length)})\n`);
    return 0;
  },
  async import(api, args, p, io) {
    want(args, 2, 'import NAME FILE');
    const v = await api.importVolume(args[0]!, new Uint8Array(readFileSync(resolve(io.cwd, args[1]!))));
    if (flagBool(p, 'json')) show(v, io);
    else io.stdout(`imported ${args[1]} into volume ${v.name}: ${formatSize(v.usedBytes)}, ${v.usedFiles} files\n`);
    return 0;
  },
};

export const volumeCommand: Command = {
  name: 'volume',
  usage: USAGE,
  async run(argv: string[], io: CliIo): Promise<number> {
    const p = parseFlags(argv, SPECS, 'volume');
    const [sub, ...args] = p.positionals;
    const fn = sub === undefined ? undefined : SUBCOMMANDS[sub];
    if (fn === undefined) throw new NanovisorError('NV_USAGE', `volume: ${sub === undefined ? 'give a subcommand' : `unknown subcommand "${sub}"`} (${Object.keys(SUBCOMMANDS).join(', ')})`);
    return fn(clientFromFlags(p, io), args, p, io);
  },
};
