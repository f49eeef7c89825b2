/**
 * `nanovisor image ls | inspect | rm | export | import | tag`: manage the image store.
 * References are NAME[:TAG] (TAG defaults to latest), a sha256: digest, or 6+ hex digits.
 */
import { resolve } from 'node:path';
import { ImageStore, storeHome } from '../../image/index.ts';
import { NanovisorError } from '../../shared/errors.ts';
import type { CliIo, Command } from '../command.ts';
import { flagBool, flagString, parseFlags, type FlagSpec, type ParsedFlags } from '../flags.ts';
import { formatAge, formatSize, shortDigest, table } from './image-format.ts';

const USAGE = `Usage: nanovisor image <subcommand> [flags]

Subcommands:
  ls [--json] [-q]               list images: NAME TAG DIGEST SIZE CREATED (-q: digests only)
  inspect REF                    print everything about an image as JSON (manifest, layers,
                                 sizes, the module's imports and exports)
  rm REF [REF...] [-f]           remove tags; blobs no image uses are deleted. A digest with
                                 several tags needs -f (--force) to drop them all
  export REF -o FILE             write the image as one .tar holding an OCI image layout
  import FILE                    add the images of an export, after verifying every digest
  tag REF NAME[:TAG]             give an image another tag

REF is NAME[:TAG] (TAG defaults to latest), sha256:<digest>, or 6+ hex digits of a digest.

Flags (every subcommand):
  --store DIR                    image store (default $NANOVISOR_HOME or ~/.nanovisor)

Examples:
  nanovisor image ls
  nanovisor image export hello:1.0 -o hello.tar && nanovisor image import hello.tar`;

const SPECS: FlagSpec[] = [
  { name: 'store', type: 'string' },
  { name: 'json', type: 'boolean' },
  { name: 'quiet', short: 'q', type: 'boolean' },
  { name: 'force', short: 'f', type: 'boolean' },
  { name: 'output', short: 'o', type: 'string' },
];

type Sub = (store: ImageStore, args: string[], p: ParsedFlags, io: CliIo) => number;

function want(args: string[], n: number | [number, number], usage: string): void {
  const [min, max] = typeof n === 'number' ? [n, n] : n;
  if (args.length < min || args.length > max) throw new NanovisorError('NV_USAGE', `usage: nanovisor image ${usage}`);
}

const SUBCOMMANDS: Record<string, Sub> = {
  ls(store, args, p, io) {
    want(args, 0, 'ls [--json] [-q]');
    const images = store.list();
    if (flagBool(p, 'json')) {
      io.stdout(`${JSON.stringify(images, null, 2)}\n`);
    } else if (flagBool(p, 'quiet')) {
      io.stdout(images.map((i) => `${i.digest}\n`).join(''));
    } else {
      const rows: string[][] = [];
      for (const img of images) {
        const tags = img.tags.length === 0 ? [`${img.name}:<none>`] : img.tags;
        for (const t of tags) {
          const colon = t.lastIndexOf(':');
          rows.push([t.slice(0, colon), t.slice(colon + 1), shortDigest(img.digest), formatSize(img.size), formatAge(img.created)]);
        }
      }
      io.stdout(table(['NAME', 'TAG', 'DIGEST', 'SIZE', 'CREATED'], rows));
    }
    return 0;
  },
  inspect(store, args, _p, io) {
    want(args, 1, 'inspect REF');
    io.stdout(`${JSON.stringify(store.inspect(args[0]!), null, 2)}\n`);
    return 0;
  },
  rm(store, args, p, io) {
    want(args, [1, Infinity], 'rm REF [REF...] [-f]');
    for (const ref of args) {
      const r = store.remove(ref, { force: flagBool(p, 'force') });
      for (const t of r.untagged) io.stdout(`untagged ${t}\n`);
      for (const d of r.deleted) io.stdout(`deleted ${d}\n`);
    }
    return 0;
  },
  export(store, args, p, io) {
    want(args, 1, 'export REF -o FILE');
    const out = flagString(p, 'output');
    if (out === undefined) throw new NanovisorError('NV_USAGE', 'image export: give the output file with -o FILE');
    const r = store.export(args[0]!, resolve(io.cwd, out));
    io.stdout(`exported ${r.tags.join(', ') || shortDigest(r.digest)} to ${out} (${formatSize(r.bytes)})\n`);
    return 0;
  },
  import(store, args, _p, io) {
    want(args, 1, 'import FILE');
    const r = store.import(resolve(io.cwd, args[0]!));
    for (const img of r.images) io.stdout(`imported ${img.tags.join(', ')} ${img.digest}\n`);
    return 0;
  },
  tag(store, args, _p, io) {
    want(args, 2, 'tag REF NAME[:TAG]');
    io.stdout(`tagged ${store.tag(args[0]!, args[1]!)}\n`);
    return 0;
  },
};
const ALIASES: Record<string, string> = { list: 'ls', remove: 'rm', rmi: 'rm' };

export const imageCommand: Command = {
  name: 'image',
  usage: USAGE,
  async run(argv: string[], io: CliIo): Promise<number> {
    const p = parseFlags(argv, SPECS, 'image');
    const [name, ...args] = p.positionals;
    if (name === undefined) throw new NanovisorError('NV_USAGE', 'image: give a subcommand (ls, inspect, rm, export, import, tag)');
    const sub = SUBCOMMANDS[ALIASES[name] ?? name];
    if (sub === undefined || !Object.hasOwn(SUBCOMMANDS, ALIASES[name] ?? name)) {
      throw new NanovisorError('NV_USAGE', `image: unknown subcommand "${name}" (ls, inspect, rm, export, import, tag)`);
    }
    const store = ImageStore.openHome(storeHome(flagString(p, 'store'), io.env, io.cwd));
    return sub(store, [...args, ...p.rest], p, io);
  },
};
