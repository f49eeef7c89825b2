/**
 * Every CLI subcommand, in the order `nanovisor help` lists them: its verb, its one-line
 * summary and how to load it. A command's module is imported only when that command runs
 * (or its `--help` is asked for), so `nanovisor --version`, `help` and a `run` do not pay
 * for loading the daemon, the API and the SQLite layer (docs/performance.md, start-up).
 */
import type { Command } from '../command.ts';

export interface CommandEntry {
  /** The verb, e.g. `build`; equal to the loaded command's `name`. */
  readonly name: string;
  /** One line for `nanovisor help`. */
  readonly summary: string;
  /** Imports the command's module. */
  load(): Promise<Command>;
}

export const COMMANDS: readonly CommandEntry[] = [
  { name: 'run', summary: 'Boot a Nano-VM from a .wasm file or an image and run it', load: async () => (await import('./run.ts')).runCommand },
  { name: 'new', summary: 'Write a ready app directory from a template (C, C++, Rust, AssemblyScript; commands or HTTP)', load: async () => (await import('./new.ts')).newCommand },
  { name: 'build', summary: 'Seal an app directory or a .wasm file into an image', load: async () => (await import('./build.ts')).buildCommand },
  { name: 'image', summary: 'List, inspect, remove, export and import images', load: async () => (await import('./image.ts')).imageCommand },
  { name: 'demo', summary: 'Build the bundled example apps into images and boot them (the quick tour)', load: async () => (await import('./demo.ts')).demoCommand },
  { name: 'serve', summary: 'Run the daemon: control-plane API, HTTP gateway, apps and versions', load: async () => (await import('./serve.ts')).serveCommand },
  { name: 'deploy', summary: 'Upload an app directory or image to the daemon and serve it as a new version', load: async () => (await import('./deploy.ts')).deployCommand },
  { name: 'apps', summary: 'List the apps of the daemon', load: async () => (await import('./apps.ts')).appsCommand },
  { name: 'app', summary: 'Show one app (routes, env, secret names, limits, current version)', load: async () => (await import('./app.ts')).appCommand },
  { name: 'versions', summary: 'List the versions of an app', load: async () => (await import('./versions.ts')).versionsCommand },
  { name: 'rollback', summary: 'Serve an earlier version of an app again', load: async () => (await import('./rollback.ts')).rollbackCommand },
  { name: 'rm', summary: 'Delete apps', load: async () => (await import('./rm.ts')).rmCommand },
  { name: 'logs', summary: 'Show (or follow) the request log of an app, with the guest\'s stderr', load: async () => (await import('./logs.ts')).logsCommand },
  { name: 'volume', summary: 'Manage the daemon\'s volumes: create, ls, inspect, resize, rm, snapshot, restore, export, import', load: async () => (await import('./volume.ts')).volumeCommand },
  { name: 'token', summary: 'Print the API token, or rotate it', load: async () => (await import('./token.ts')).tokenCommand },
  { name: 'ui', summary: 'Print (and on a desktop, open) the address of the dashboard', load: async () => (await import('./ui.ts')).uiCommand },
];
